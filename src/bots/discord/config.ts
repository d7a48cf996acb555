import { z } from 'zod';

/**
 * The Discord bot's own settings, validated at start next to the core's (src/config.ts). Values are
 * never echoed in errors: a missing or malformed DISCORD_TOKEN is named, never printed.
 */
const snowflake = z.string().regex(/^\d{15,22}$/, 'must be a Discord id (15–22 digits)');
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .default('false')
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const positiveInt = z.coerce.number().int().positive();

const schema = z.object({
  DISCORD_TOKEN: z.string({ error: 'is missing' }).trim().min(1, 'is missing'),
  DISCORD_APPLICATION_ID: z
    .string({ error: 'is missing' })
    .regex(/^\d{15,22}$/, 'must be a Discord id (15–22 digits)'),
  DISCORD_DEV_GUILD_ID: snowflake.optional(),
  /** REST base (tests point it at the fake Discord); default Discord's. */
  DISCORD_API_URL: z.url().optional(),
  /** Hosts attachments may be downloaded from (comma separated, host or host:port). */
  DISCORD_CDN_HOSTS: z
    .string()
    .default('cdn.discordapp.com,media.discordapp.net')
    .transform((v) =>
      v
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean),
    ),
  /**
   * The privileged Message Content intent: needed only for auto-analysis of voice messages posted in
   * server channels (without it Discord sends those messages with no attachments). Off by default.
   */
  DISCORD_MESSAGE_CONTENT_INTENT: flag,
  DISCORD_LISTEN_DEFAULT_S: positiveInt.default(60),
  DISCORD_LISTEN_MAX_S: positiveInt.default(300),
  RATE_LIMIT_USER_PER_MINUTE: positiveInt.default(5),
  RATE_LIMIT_GUILD_PER_MINUTE: positiveInt.default(30),
  WORK_CONCURRENCY: positiveInt.default(1),
  WORK_QUEUE_MAX: z.coerce.number().int().min(0).default(20),
  DOWNLOAD_TIMEOUT_S: positiveInt.default(30),
  SHUTDOWN_GRACE_S: z.coerce.number().min(0).default(20),
});

export type DiscordConfig = z.infer<typeof schema>;

export class DiscordConfigError extends Error {
  override readonly name = 'DiscordConfigError';
}

export function loadDiscordConfig(env: NodeJS.ProcessEnv = process.env): DiscordConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`);
    throw new DiscordConfigError(
      `The Discord bot cannot start:\n  ${problems.join('\n  ')}\n` +
        'Set these in the environment (see README, "Discord bot").',
    );
  }
  return parsed.data;
}
