// `npm run deploy-commands`: registers commands/ with Discord — to DISCORD_DEV_GUILD_ID when set
// (instant, for development), else globally (production; `--global` forces it).
import { REST, Routes } from 'discord.js';
import { COMMANDS } from '../../../commands/emotion.ts';
import { DiscordConfigError, loadDiscordConfig } from './config.ts';
import { Scrubber } from './scrub.ts';

let config: ReturnType<typeof loadDiscordConfig>;
try {
  config = loadDiscordConfig();
} catch (error) {
  if (error instanceof DiscordConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
  throw error;
}
const global = process.argv.includes('--global') || !config.DISCORD_DEV_GUILD_ID;
const rest = new REST(config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {}).setToken(
  config.DISCORD_TOKEN,
);
const route = global
  ? Routes.applicationCommands(config.DISCORD_APPLICATION_ID)
  : Routes.applicationGuildCommands(config.DISCORD_APPLICATION_ID, config.DISCORD_DEV_GUILD_ID as string);
try {
  const saved = (await rest.put(route, { body: COMMANDS })) as { name: string }[];
  process.stdout.write(
    `Registered ${saved.length} commands (${saved.map((c) => c.name).join(', ')}) ${global ? 'globally (may take up to an hour to appear)' : `in guild ${config.DISCORD_DEV_GUILD_ID}`}.\n`,
  );
} catch (error) {
  process.stderr.write(
    `Could not register the commands: ${new Scrubber(config.DISCORD_TOKEN).error(error).message}\n`,
  );
  process.exit(1);
}
