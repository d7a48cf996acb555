import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.ts';

/** A real pino logger at `info` whose JSON lines collect in `logs`, for tests that read what was logged. */
export function captureLogs(): { readonly logs: string[]; readonly logger: Logger } {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  return { logs, logger: createLogger('info', sink) };
}
