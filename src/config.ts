import { z } from 'zod';
import type { DecodeLimits } from './core/ports.ts';

const positiveNumber = z.coerce.number().positive();

/** Everything the process reads from its environment, validated once at start. */
const schema = z.object({
  MODEL_DIR: z.string().min(1).default('models/default'),
  INFERENCE_DEVICE: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  INFERENCE_WORKERS: z.coerce.number().int().min(1).optional(),
  INFERENCE_THREADS: z.coerce.number().int().min(1).optional(),
  DATABASE_PATH: z.string().min(1).default('data/annamalai.db'),
  MAX_INPUT_MB: positiveNumber.default(25),
  MAX_DURATION_S: positiveNumber.default(600),
  DECODE_TIMEOUT_S: positiveNumber.default(120),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
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
