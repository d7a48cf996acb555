import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const FIXTURE_MODEL = 'test/fixtures/models/tiny';

export interface CliRun {
  /** Exit code; null when a signal ended the process. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `bin/annamalai.js` as a real process (fixture model, CLI log level) and never throws. */
export async function cli(
  args: readonly string[],
  env: Record<string, string> = {},
  options: { readonly timeoutMs?: number } = {},
): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/annamalai.js', ...args], {
      env: { ...process.env, MODEL_DIR: FIXTURE_MODEL, LOG_LEVEL: 'warn', ...env },
      maxBuffer: 64 * 1024 * 1024,
      // A hung CLI is a failure to see, not a test that waits forever.
      timeout: options.timeoutMs ?? 25_000,
      killSignal: 'SIGKILL',
    });
    return { code: 0, signal: null, stdout, stderr };
  } catch (error) {
    const e = error as { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };
    return {
      code: typeof e.code === 'number' ? e.code : null,
      signal: e.signal,
      stdout: e.stdout,
      stderr: e.stderr,
    };
  }
}

export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
