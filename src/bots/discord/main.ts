// `npm run start:discord`: the Discord bot alone. Refuses to start with a message naming what is missing;
// SIGTERM/SIGINT finish or cleanly abandon work in flight (users are told). With DISCORD_SHARDS above 1 or
// `auto` this process is the shard manager, and runs this file again once per shard (shard-manager.ts).
import { runBots } from '../process.ts';
import { discordRateRules } from './bot.ts';
import { loadDiscordConfig } from './config.ts';
import { discordShardManager } from './shard-manager.ts';
import { DISCORD_REDACT, startDiscord } from './start.ts';

await runBots((env) => {
  const discord = loadDiscordConfig(env);
  if (discord.sharding.kind === 'manager') return discordShardManager(discord, import.meta.filename);
  // A shard whose manager is gone (killed -9) stops as on SIGTERM rather than run on unsupervised.
  if (discord.sharding.kind === 'shard')
    process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  return {
    settings: discord.bot,
    rateRules: discordRateRules(discord),
    redact: DISCORD_REDACT,
    start: [(runtime, logger) => startDiscord(runtime, discord, logger)],
  };
});
