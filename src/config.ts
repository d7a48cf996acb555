import { z } from 'zod';
import type { DecodeLimits } from './core/ports.ts';
import { isPostgresUrl } from './storage/target.ts';

const positiveNumber = z.coerce.number().positive();
const positiveInt = z.coerce.number().int().positive();
/** An empty variable (`WEB_TOKEN=`) means unset, not an empty secret. */
const optionalSecret = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z.string().min(16, 'must be at least 16 characters').optional(),
);

/** Everything the process reads from its environment, validated once at start. */
const schema = z.object({
  MODEL_DIR: z.string().min(1).default('models/default'),
  INFERENCE_DEVICE: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  INFERENCE_WORKERS: z.coerce.number().int().min(1).optional(),
  INFERENCE_THREADS: z.coerce.number().int().min(1).optional(),
  DATABASE_PATH: z.string().min(1).default('data/annamalai.db'),
  /** When set, the bots store in this Postgres database instead of the DATABASE_PATH file. */
  DATABASE_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .refine(
        isPostgresUrl,
        'must be a postgres:// or postgresql:// URL (postgres://user:password@host:5432/db)',
      )
      .optional(),
  ),
  /**
   * Scale-out (docs in README "Scaling out"): when set, the bots hand recordings to `annamalai worker`
   * processes through pg-boss in this Postgres database (often the DATABASE_URL one) and never load the model.
   */
  QUEUE_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .refine(isPostgresUrl, 'must be a postgres:// or postgresql:// URL (pg-boss keeps its jobs there)')
      .optional(),
  ),
  /**
   * The name of this gateway, which must survive its restarts: a restarted gateway answers the jobs it
   * accepted under this name (and only those, when several gateways share a database). Unset: the host name.
   */
  GATEWAY_ID: z.preprocess((v) => (v === '' ? undefined : v), z.string().trim().min(1).max(200).optional()),
  /** Jobs one `annamalai worker` runs at once. */
  WORKER_CONCURRENCY: positiveInt.default(1),
  /** Further attempts of a job whose worker died or whose model failed, before the user is told. */
  QUEUE_RETRY_LIMIT: z.coerce.number().int().min(0).max(10).default(2),
  /** A worker silent this long has died: its job goes to another (pg-boss needs at least 10). */
  QUEUE_HEARTBEAT_S: z.coerce.number().int().min(10).default(30),
  /** How often the queue looks for jobs whose worker died. */
  QUEUE_SUPERVISE_S: z.coerce.number().int().min(1).default(10),
  /** The longest one attempt of one job may run. */
  QUEUE_JOB_TIMEOUT_S: positiveInt.default(600),
  MAX_INPUT_MB: positiveNumber.default(25),
  MAX_DURATION_S: positiveNumber.default(600),
  DECODE_TIMEOUT_S: positiveNumber.default(120),
  /** An ffmpeg binary for the formats decoded out of process; unset: ffmpeg-static, then PATH. */
  FFMPEG_PATH: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z.string().trim().optional(),
  ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // The web page and HTTP API (`annamalai serve`, src/web).
  WEB_HOST: z.string().min(1).default('127.0.0.1'),
  WEB_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  /** Required when WEB_HOST is not a loopback address: a bearer token for the API, the password of the page. */
  WEB_TOKEN: optionalSecret,
  WEB_RATE_LIMIT_PER_MINUTE: positiveInt.default(10),
  WEB_UPLOAD_TIMEOUT_S: positiveNumber.default(60),
  WEB_WORK_CONCURRENCY: positiveInt.default(1),
  WEB_WORK_QUEUE_MAX: z.coerce.number().int().min(0).default(20),
});

export type Config = z.infer<typeof schema>;

/** The base of every configuration error (core, bots, web): the process prints it as one message and exits. */
export class ConfigError extends Error {
  override readonly name: string = 'ConfigError';
}

/** Reads the environment; throws a ConfigError naming each bad variable (values are never echoed). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}

export function decodeLimits(config: Config): DecodeLimits {
  return {
    maxBytes: Math.round(config.MAX_INPUT_MB * 1024 * 1024),
    maxDurationSeconds: config.MAX_DURATION_S,
    timeoutMs: config.DECODE_TIMEOUT_S * 1000,
  };
}
