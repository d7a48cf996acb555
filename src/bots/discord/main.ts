// `npm start`: the Discord bot. Validates the configuration first and refuses to start with a message
// naming what is missing; SIGTERM/SIGINT finish or cleanly abandon work in flight (users are told).

import { openServices } from '../../compose.ts';
import { ConfigError, loadConfig } from '../../config.ts';
import { SystemClock } from '../../digest/clock.ts';
import { DigestScheduler } from '../../digest/scheduler.ts';
import { createLogger } from '../../log.ts';
import { SqliteDigestStore } from '../../storage/digest-store.ts';
import { SqliteSettingsStore } from '../../storage/settings-store.ts';
import { DiscordBot, PLATFORM } from './bot.ts';
import { DiscordConfigError, loadDiscordConfig } from './config.ts';
import { discordDigestPoster } from './digest.ts';
import { Scrubber } from './scrub.ts';
import { createVoiceCommands } from './voice.ts';

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

let config: ReturnType<typeof loadConfig>;
let discord: ReturnType<typeof loadDiscordConfig>;
try {
  config = loadConfig();
  discord = loadDiscordConfig();
} catch (error) {
  if (error instanceof ConfigError || error instanceof DiscordConfigError) fail(error.message, 78);
  throw error;
}
if (config.DATABASE_PATH === ':memory:')
  fail('DATABASE_PATH must be a file for the bot (settings and results share it).', 78);

const scrub = new Scrubber(discord.DISCORD_TOKEN);
// The shared logger redacts token-like keys; the bot's config keys are added here. The token itself is
// never put in a log record (errors go through the Scrubber).
const logger = createLogger(config.LOG_LEVEL).child(
  {},
  { redact: { paths: ['DISCORD_TOKEN', '*.DISCORD_TOKEN', 'config.DISCORD_TOKEN'], censor: '[redacted]' } },
);
const services = await openServices(config, logger, { databasePath: config.DATABASE_PATH });
const store = services.analyzer.store;
if (!store) fail('internal: no results store', 70);
const settings = new SqliteSettingsStore({ path: config.DATABASE_PATH });
const analyzer = { ...services.analyzer, decoder: services.analyzer.decoder };
const digests = new SqliteDigestStore({ path: config.DATABASE_PATH });
const clock = new SystemClock();
const bot = new DiscordBot({
  config: discord,
  analyzer,
  store,
  settings,
  logger,
  voice: createVoiceCommands({ settings, analyzer, logger, config: discord }),
  digest: { store: digests, clock },
});
// The mood digest and the daily retention purge (src/digest/scheduler.ts), started once logged in.
const scheduler = new DigestScheduler({
  platform: PLATFORM,
  store,
  settings,
  digests,
  clock,
  poster: discordDigestPoster(bot.client),
  logger,
  labels: analyzer.classifier.info.trainedLabels,
});

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down: finishing or abandoning work in flight');
  try {
    await scheduler.stop();
    const report = await bot.shutdown();
    logger.info(report, 'work queue drained');
  } finally {
    await digests.close();
    await settings.close();
    await services.close();
  }
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

try {
  await bot.start();
} catch (error) {
  const e = scrub.error(error);
  logger.error({ err: e }, 'could not log in to Discord');
  await digests.close();
  await settings.close();
  await services.close();
  fail(
    /token/i.test(String(e.message)) || e.code === 'TokenInvalid'
      ? 'Discord refused the bot token: check DISCORD_TOKEN (Developer Portal → Bot → Reset Token).'
      : `Could not connect to Discord: ${String(e.message)}`,
    1,
  );
}
try {
  const caughtUp = await scheduler.start();
  logger.info(caughtUp, 'digest scheduler started');
} catch (error) {
  logger.error({ err: String(error) }, 'digest scheduler could not start; the bot runs without it');
}
