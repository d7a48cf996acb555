import { z } from 'zod';
import { ConfigError } from '../config.ts';

/**
 * The settings every bot shares (one work queue, one download timeout, one shutdown grace period, the
 * per-person rate limit), read once in the platforms' units (seconds, per minute) and handed to the code
 * in milliseconds: no one multiplies by 1000 at the point of use. Discord and Slack add only their own keys
 * (src/bots/discord/config.ts, src/bots/slack/config.ts).
 */
const positiveInt = z.coerce.number().int().positive();

export const BOT_SETTINGS_KEYS = {
  RATE_LIMIT_USER_PER_MINUTE: positiveInt.default(5),
  WORK_CONCURRENCY: positiveInt.default(1),
  WORK_QUEUE_MAX: z.coerce.number().int().min(0).default(20),
  DOWNLOAD_TIMEOUT_S: positiveInt.default(30),
  SHUTDOWN_GRACE_S: z.coerce.number().min(0).default(20),
} as const;

export interface BotSettings {
  readonly rateLimitUserPerMinute: number;
  readonly workConcurrency: number;
  readonly workQueueMax: number;
  readonly downloadTimeoutMs: number;
  readonly shutdownGraceMs: number;
}

type RawBotSettings = {
  readonly [K in keyof typeof BOT_SETTINGS_KEYS]: z.infer<(typeof BOT_SETTINGS_KEYS)[K]>;
};

/** The shared keys, converted once. */
export function toBotSettings(raw: RawBotSettings): BotSettings {
  return {
    rateLimitUserPerMinute: raw.RATE_LIMIT_USER_PER_MINUTE,
    workConcurrency: raw.WORK_CONCURRENCY,
    workQueueMax: raw.WORK_QUEUE_MAX,
    downloadTimeoutMs: raw.DOWNLOAD_TIMEOUT_S * 1000,
    shutdownGraceMs: raw.SHUTDOWN_GRACE_S * 1000,
  };
}

/** A platform's schema: its own keys, plus the shared ones gathered under `bot` in milliseconds. */
export function withBotSettings<S extends z.ZodRawShape>(own: S) {
  return z.object({ ...own, ...BOT_SETTINGS_KEYS });
}

export function splitBotSettings<T extends RawBotSettings>(
  parsed: T,
): Omit<T, keyof RawBotSettings> & { readonly bot: BotSettings } {
  const {
    RATE_LIMIT_USER_PER_MINUTE,
    WORK_CONCURRENCY,
    WORK_QUEUE_MAX,
    DOWNLOAD_TIMEOUT_S,
    SHUTDOWN_GRACE_S,
    ...own
  } = parsed;
  return {
    ...own,
    bot: toBotSettings({
      RATE_LIMIT_USER_PER_MINUTE,
      WORK_CONCURRENCY,
      WORK_QUEUE_MAX,
      DOWNLOAD_TIMEOUT_S,
      SHUTDOWN_GRACE_S,
    }),
  };
}

/** The shared settings alone (`npm start` with both platforms: one queue for both). */
export function loadBotSettings(env: NodeJS.ProcessEnv = process.env): BotSettings {
  const parsed = z.object(BOT_SETTINGS_KEYS).safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`);
    throw new ConfigError(`The bots cannot start:\n  ${problems.join('\n  ')}`);
  }
  return toBotSettings(parsed.data);
}
