// `npm run start:discord`: the Discord bot alone. Refuses to start with a message naming what is missing;
// SIGTERM/SIGINT finish or cleanly abandon work in flight (users are told).
import { runBots } from '../process.ts';
import { discordRateRules } from './bot.ts';
import { loadDiscordConfig } from './config.ts';
import { DISCORD_REDACT, startDiscord } from './start.ts';

await runBots((env) => {
  const discord = loadDiscordConfig(env);
  return {
    settings: discord.bot,
    rateRules: discordRateRules(discord),
    redact: DISCORD_REDACT,
    start: [(runtime, logger) => startDiscord(runtime, discord, logger)],
  };
});
