import { z } from 'zod';
import { ConfigError } from '../../config.ts';
import { splitBotSettings, withBotSettings } from '../settings.ts';
import {
  checkShardIds,
  DISCORD_SHARD_IDS_KEY,
  DISCORD_SHARDS_KEY,
  type DiscordSharding,
  discordSharding,
} from './shards.ts';

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

const schema = withBotSettings({
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
  RATE_LIMIT_GUILD_PER_MINUTE: positiveInt.default(30),
  /** Gateway shards (README "Scaling out"): a count or `auto`; unset, one process holds every server. */
  DISCORD_SHARDS: DISCORD_SHARDS_KEY,
  /** The shards this machine runs, when they are spread over machines; unset, all of them. */
  DISCORD_SHARD_IDS: DISCORD_SHARD_IDS_KEY,
}).superRefine((v, ctx) => {
  // zod runs this even when a key failed: a malformed list (still its text) is reported already.
  if (v.DISCORD_SHARD_IDS !== undefined && !Array.isArray(v.DISCORD_SHARD_IDS)) return;
  const problem = checkShardIds(v.DISCORD_SHARDS, v.DISCORD_SHARD_IDS);
  if (problem) ctx.addIssue({ code: 'custom', path: ['DISCORD_SHARD_IDS'], message: problem });
});

/**
 * Discord's own keys, the shared bot settings under `bot` (src/bots/settings.ts, in milliseconds), and what
 * this process is under sharding (shards.ts).
 */
export type DiscordConfig = ReturnType<typeof splitBotSettings<z.infer<typeof schema>>> & {
  readonly sharding: DiscordSharding;
};

export class DiscordConfigError extends ConfigError {
  override readonly name: string = 'DiscordConfigError';
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
  const { DISCORD_SHARDS, DISCORD_SHARD_IDS } = parsed.data;
  return {
    ...splitBotSettings(parsed.data),
    sharding: discordSharding(env, DISCORD_SHARDS, DISCORD_SHARD_IDS),
  };
}
