// `npm start`: every bot whose credentials are set (DISCORD_TOKEN, SLACK_BOT_TOKEN), in one process with
// one model, one database and one bounded work queue shared by both platforms. With DISCORD_SHARDS and
// Discord alone, the Discord shard manager instead (discord/shard-manager.ts).
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config.ts';
import { discordRateRules } from './discord/bot.ts';
import { loadDiscordConfig } from './discord/config.ts';
import { discordShardManager } from './discord/shard-manager.ts';
import { DISCORD_REDACT, startDiscord } from './discord/start.ts';
import { type BotPlan, runBots, type SupervisorPlan } from './process.ts';
import { loadBotSettings } from './settings.ts';
import { slackRateRules } from './slack/app.ts';
import { loadSlackConfig } from './slack/config.ts';
import { SLACK_REDACT, startSlack } from './slack/start.ts';

class NoBotConfiguredError extends ConfigError {
  override readonly name: string = 'NoBotConfiguredError';
}

await runBots((env): BotPlan | SupervisorPlan => {
  const discord = env.DISCORD_TOKEN ? loadDiscordConfig(env) : undefined;
  const slack = env.SLACK_BOT_TOKEN ? loadSlackConfig(env) : undefined;
  if (!discord && !slack) {
    throw new NoBotConfiguredError(
      'No bot to start: set DISCORD_TOKEN and DISCORD_APPLICATION_ID for Discord, and/or SLACK_BOT_TOKEN with ' +
        'SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode) for Slack. See README.',
    );
  }
  if (discord?.sharding.kind === 'manager') {
    if (slack)
      throw new ConfigError(
        'DISCORD_SHARDS runs the Discord bot as one process per shard, which the Slack app cannot share: ' +
          'start Discord with `npm run start:discord` and Slack with `npm run start:slack`.',
      );
    // The shard processes run the Discord-only entry point.
    return discordShardManager(discord, fileURLToPath(new URL('./discord/main.ts', import.meta.url)));
  }
  return {
    // The shared keys are read once for both platforms: one queue, one grace period.
    settings: loadBotSettings(env),
    rateRules: {
      ...(discord ? discordRateRules(discord) : {}),
      ...(slack ? slackRateRules(slack) : {}),
    },
    redact: [...(discord ? DISCORD_REDACT : []), ...(slack ? SLACK_REDACT : [])],
    start: [
      ...(discord
        ? [
            (r: Parameters<typeof startDiscord>[0], l: Parameters<typeof startDiscord>[2]) =>
              startDiscord(r, discord, l),
          ]
        : []),
      ...(slack
        ? [
            (r: Parameters<typeof startSlack>[0], l: Parameters<typeof startSlack>[2]) =>
              startSlack(r, slack, l),
          ]
        : []),
    ],
  };
});
