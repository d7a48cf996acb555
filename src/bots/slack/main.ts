// `npm run start:slack`: the Slack app (Socket Mode by default). Refuses to start, naming what is missing,
// when its configuration is incomplete; SIGTERM/SIGINT finish or abandon work in flight and say so.
import { openServices } from '../../compose.ts';
import { ConfigError, loadConfig } from '../../config.ts';
import { SystemClock } from '../../digest/clock.ts';
import { DigestScheduler } from '../../digest/scheduler.ts';
import { createLogger } from '../../log.ts';
import { SqliteDigestStore } from '../../storage/digest-store.ts';
import { SqliteSettingsStore } from '../../storage/settings-store.ts';
import { createSlackBot, PLATFORM } from './app.ts';
import { loadSlackConfig, SlackConfigError } from './config.ts';
import { slackDigestPoster } from './digest.ts';
import { redactTokens } from './log.ts';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  let slack: ReturnType<typeof loadSlackConfig>;
  try {
    config = loadConfig();
    slack = loadSlackConfig();
  } catch (error) {
    if (error instanceof ConfigError || error instanceof SlackConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  if (config.DATABASE_PATH === ':memory:') {
    process.stderr.write('DATABASE_PATH must be a file for the Slack app (settings and results share it).\n');
    process.exit(2);
  }
  const logger = createLogger(config.LOG_LEVEL);
  const services = await openServices(config, logger, { databasePath: config.DATABASE_PATH });
  const store = services.analyzer.store;
  if (!store) throw new Error('internal: no results store');
  const settings = new SqliteSettingsStore({ path: config.DATABASE_PATH });
  const digests = new SqliteDigestStore({ path: config.DATABASE_PATH });
  const clock = new SystemClock();
  const bot = createSlackBot({
    config: slack,
    analyzer: { ...services.analyzer, store },
    settings,
    logger,
    digest: { store: digests, clock },
  });
  // The mood digest and the daily retention purge (src/digest/scheduler.ts).
  const scheduler = new DigestScheduler({
    platform: PLATFORM,
    store,
    settings,
    digests,
    clock,
    poster: slackDigestPoster(bot.app.client, logger),
    logger,
    labels: services.analyzer.classifier.info.trainedLabels,
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await scheduler.stop();
    const report = await bot.stop();
    logger.info(report, 'work in flight finished or abandoned');
    await Promise.allSettled([services.close(), settings.close(), digests.close()]);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  await bot.start();
  try {
    logger.info(await scheduler.start(), 'digest scheduler started');
  } catch (error) {
    logger.error(
      { err: redactTokens(String(error)) },
      'digest scheduler could not start; the app runs without it',
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `The Slack app stopped: ${redactTokens(error instanceof Error ? error.message : String(error))}\n`,
  );
  process.exit(1);
});
