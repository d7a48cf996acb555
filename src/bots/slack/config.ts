import { z } from 'zod';
import { ConfigError } from '../../config.ts';
import { BOT_SETTINGS_KEYS, splitBotSettings } from '../settings.ts';

/**
 * The Slack app's own settings, validated at start next to the core's (src/config.ts). Socket Mode
 * (SLACK_APP_TOKEN) is the default; SLACK_MODE=http serves the Events API over HTTP and needs
 * SLACK_SIGNING_SECRET instead. Values are never echoed in errors: a bad token is named, never printed.
 */
const positiveInt = z.coerce.number().int().positive();
const hostList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v) =>
      v
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    );

const schema = z
  .object({
    SLACK_MODE: z.enum(['socket', 'http'], { error: 'must be "socket" or "http"' }).default('socket'),
    SLACK_BOT_TOKEN: z
      .string({ error: 'is missing' })
      .trim()
      .min(1, 'is missing')
      .regex(/^xoxb-/, 'must be a bot token (starts with xoxb-)'),
    SLACK_APP_TOKEN: z
      .string()
      .trim()
      .regex(/^xapp-/, 'must be an app-level token (starts with xapp-)')
      .optional(),
    SLACK_SIGNING_SECRET: z.string().trim().min(1).optional(),
    /** HTTP mode only: the port Bolt listens on (POST /slack/events). */
    SLACK_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    /** Web API base (tests point it at the fake Slack); default Slack's. */
    SLACK_API_URL: z.url().optional(),
    /** Hosts that receive the bot token when downloading url_private (comma separated, host or host:port). */
    SLACK_FILE_HOSTS: hostList('files.slack.com'),
    /** One extra file host for tests or a proxy (host:port); http is allowed only on loopback. */
    SLACK_TEST_FILE_HOST: z.string().trim().toLowerCase().optional(),
    RATE_LIMIT_WORKSPACE_PER_MINUTE: positiveInt.default(30),
    /** How long startup may try to reach Slack before it exits 1 saying why (as Discord's login does). */
    SLACK_CONNECT_TIMEOUT_S: z.coerce.number().positive().default(60),
    ...BOT_SETTINGS_KEYS,
  })
  .superRefine((v, ctx) => {
    if (v.SLACK_MODE === 'socket' && !v.SLACK_APP_TOKEN)
      ctx.addIssue({
        code: 'custom',
        path: ['SLACK_APP_TOKEN'],
        message: 'is missing (Socket Mode needs an app-level token with connections:write)',
      });
    if (v.SLACK_MODE === 'http' && !v.SLACK_SIGNING_SECRET)
      ctx.addIssue({
        code: 'custom',
        path: ['SLACK_SIGNING_SECRET'],
        message: 'is missing (HTTP mode verifies every request with it)',
      });
  });

/** Slack's own keys, and the shared bot settings under `bot` (src/bots/settings.ts, in milliseconds). */
export type SlackConfig = ReturnType<typeof splitBotSettings<z.infer<typeof schema>>>;

export class SlackConfigError extends ConfigError {
  override readonly name: string = 'SlackConfigError';
}

export function loadSlackConfig(env: NodeJS.ProcessEnv = process.env): SlackConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    // Only the variable's name and the rule it broke: zod's messages here never include the value.
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`);
    // The per-mode rules run only once the object parses: name those variables here too, so one run
    // lists everything missing.
    const mode = env.SLACK_MODE ?? 'socket';
    const named = (key: string) => problems.some((p) => p.startsWith(`${key} `));
    if (mode === 'socket' && !env.SLACK_APP_TOKEN?.trim() && !named('SLACK_APP_TOKEN'))
      problems.push(
        'SLACK_APP_TOKEN is missing (Socket Mode needs an app-level token with connections:write)',
      );
    if (mode === 'http' && !env.SLACK_SIGNING_SECRET?.trim() && !named('SLACK_SIGNING_SECRET'))
      problems.push('SLACK_SIGNING_SECRET is missing (HTTP mode verifies every request with it)');
    throw new SlackConfigError(
      `The Slack app cannot start:\n  ${problems.join('\n  ')}\n` +
        'Set these in the environment (see README, "Slack app").',
    );
  }
  return splitBotSettings(parsed.data);
}

/** Hosts that may receive the bot token (and serve file bytes). */
export function slackFileHosts(
  config: Pick<SlackConfig, 'SLACK_FILE_HOSTS' | 'SLACK_TEST_FILE_HOST'>,
): string[] {
  return [...config.SLACK_FILE_HOSTS, ...(config.SLACK_TEST_FILE_HOST ? [config.SLACK_TEST_FILE_HOST] : [])];
}
