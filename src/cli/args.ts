import { parseArgs } from 'node:util';
import type { DeviceSetting } from '../inference/index.ts';

export const USAGE = `Usage:
  annamalai analyze FILE... [--format table|json] [--db PATH|URL [--speaker ID]] [--model DIR] [--device auto|cpu|cuda]
  annamalai diagnostics [--model DIR] [--device auto|cpu|cuda]
  annamalai serve [--host HOST] [--port PORT] [--db PATH|URL] [--model DIR] [--device auto|cpu|cuda]
  annamalai worker [--model DIR] [--device auto|cpu|cuda]

analyze   prints each file's emotions per 5-second segment; --format json prints one JSON object per file
          per line; --db PATH also stores the results in SQLite (or Postgres, given a postgres:// URL).
          --speaker ID (with --db): the files are one person's, judged against and added to their voice
          baseline in the database (when the model has a baseline head). Exits 1 if any file failed, 2 on a
          usage error.
serve     the web page and HTTP API (default http://127.0.0.1:8080/); --db PATH|URL stores results, never
          audio. Any host but loopback needs WEB_TOKEN. With QUEUE_URL the workers analyse (README "Scaling out").
worker    runs the model for the bots: takes analysis jobs from the queue at QUEUE_URL, stores results in
          DATABASE_URL (README "Scaling out"); WORKER_CONCURRENCY jobs at once.
Environment: see README (MODEL_DIR, INFERENCE_DEVICE, MAX_INPUT_MB, MAX_DURATION_S, WEB_TOKEN, LOG_LEVEL, ...).`;

/** A command line that cannot be run as given: exit 2 with the reason and a pointer to --help. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const DEVICES: readonly DeviceSetting[] = ['auto', 'cpu', 'cuda'];
const FORMATS = ['table', 'json'] as const;
export type OutputFormat = (typeof FORMATS)[number];

/** Settings given as flags; they override the environment (MODEL_DIR, INFERENCE_DEVICE, WEB_HOST, WEB_PORT). */
export interface FlagOverrides {
  readonly model?: string;
  readonly device?: DeviceSetting;
  readonly host?: string;
  readonly port?: string;
}

export type Command =
  | { readonly kind: 'help'; readonly asked: boolean }
  | {
      readonly kind: 'analyze';
      readonly files: readonly string[];
      readonly format: OutputFormat;
      readonly db?: string;
      /** Whose voice the files are (needs db): their voice baseline is used and updated. */
      readonly speaker?: string;
      readonly overrides: FlagOverrides;
    }
  | { readonly kind: 'diagnostics'; readonly overrides: FlagOverrides }
  | { readonly kind: 'worker'; readonly overrides: FlagOverrides }
  | { readonly kind: 'serve'; readonly db?: string; readonly overrides: FlagOverrides };

/** Parses argv (without node and the script); throws UsageError naming the flag or argument at fault. */
export function parseCommandLine(argv: readonly string[]): Command {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError(parseProblem(error));
  }
  const { positionals, values } = parsed;
  const [command, ...files] = positionals;
  if (values.help || !command) return { kind: 'help', asked: values.help === true };
  const device = oneOf('--device', values.device, DEVICES);
  const overrides: FlagOverrides = {
    ...(values.model !== undefined && { model: values.model }),
    ...(device !== undefined && { device }),
  };
  if (command === 'diagnostics') return { kind: 'diagnostics', overrides };
  if (command === 'worker') {
    if (files.length > 0) throw new UsageError(`worker takes no files ("${files[0]}")`);
    if (values.db !== undefined) throw new UsageError('worker stores results in DATABASE_URL, not --db');
    return { kind: 'worker', overrides };
  }
  if (command === 'serve') {
    if (files.length > 0) throw new UsageError(`serve takes no files ("${files[0]}")`);
    return {
      kind: 'serve',
      ...(values.db !== undefined && { db: values.db }),
      overrides: {
        ...overrides,
        ...(values.host !== undefined && { host: values.host }),
        ...(values.port !== undefined && { port: values.port }),
      },
    };
  }
  if (values.host !== undefined || values.port !== undefined)
    throw new UsageError('--host and --port are options of serve');
  if (values.speaker !== undefined && command !== 'analyze')
    throw new UsageError('--speaker is an option of analyze');
  if (command !== 'analyze') throw new UsageError(`unknown command "${command}"`);
  const format = oneOf('--format', values.format, FORMATS) ?? 'table';
  if (files.length === 0) throw new UsageError('give at least one audio file');
  const { speaker } = values;
  if (speaker !== undefined) {
    if (values.db === undefined) throw new UsageError('--speaker needs --db: the voice baseline lives there');
    if (!/^[\w.@-]{1,128}$/.test(speaker))
      throw new UsageError('--speaker must be 1–128 letters, digits, ".", "_", "-" or "@"');
  }
  return {
    kind: 'analyze',
    files,
    format,
    ...(values.db !== undefined && { db: values.db }),
    ...(speaker !== undefined && { speaker }),
    overrides,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      format: { type: 'string' },
      db: { type: 'string' },
      speaker: { type: 'string' },
      model: { type: 'string' },
      device: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  const quoted = allowed.map((a) => `"${a}"`);
  const choices = `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
  throw new UsageError(`${flag} must be ${choices}, not "${value}"`);
}

/** node:util names the option at fault; its advice on '--' is for scripts, not for a person. */
function parseProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  return unknown ? `unknown option ${unknown[1]}` : message;
}
