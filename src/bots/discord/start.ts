import type { Logger } from '../../log.ts';
import { type BotRuntime, digestScheduler, type RunningBot } from '../runtime.ts';
import { answerUnfinishedJobs, unfinishedBeforeStart } from '../shared/restart-recovery.ts';
import { DiscordBot, PLATFORM } from './bot.ts';
import type { DiscordConfig } from './config.ts';
import { discordDigestPoster } from './digest.ts';
import { discordRecovery } from './recovery.ts';
import { Scrubber } from './scrub.ts';
import { recoveredJournalPlatforms } from './shards.ts';
import { createVoiceCommands } from './voice.ts';

/** Logger paths holding the Discord token (the token itself is never put in a log record). */
export const DISCORD_REDACT = ['DISCORD_TOKEN', '*.DISCORD_TOKEN', 'config.DISCORD_TOKEN'];

export class DiscordLoginError extends Error {
  override readonly name = 'DiscordLoginError';
}

/** Logs the Discord bot in on the shared runtime and starts its digest scheduler. */
export async function startDiscord(
  runtime: BotRuntime,
  config: DiscordConfig,
  baseLogger: Logger,
): Promise<RunningBot> {
  const { sharding } = config;
  // Every line of a shard process names its shard (the processes of a ShardingManager share one output).
  const logger =
    sharding.kind === 'shard' ? baseLogger.child({ shard: sharding.id, shards: sharding.count }) : baseLogger;
  const { analyzer, settings, digests, clock } = runtime;
  const scrub = new Scrubber(config.DISCORD_TOKEN);
  const bot = new DiscordBot({
    config,
    analyzer,
    analysis: runtime.analysis,
    store: analyzer.store,
    settings,
    logger,
    queue: runtime.queue,
    limiter: runtime.limiter,
    voice: createVoiceCommands({ settings, analyzer, logger, config }),
    digest: { store: digests, clock },
    jobs: runtime.jobs,
    storageHealth: runtime.storageHealth,
  });
  // Taken before logging in: work this process accepts must never be mistaken for the last run's.
  const unfinished = (
    await Promise.all(
      recoveredJournalPlatforms(sharding).map((key) => unfinishedBeforeStart(runtime.jobs, key, logger)),
    )
  ).flat();
  const scheduler = digestScheduler(runtime, PLATFORM, discordDigestPoster(bot.client), logger);
  try {
    await bot.start();
  } catch (error) {
    const e = scrub.error(error);
    logger.error({ err: e }, 'could not log in to Discord');
    throw new DiscordLoginError(
      /token/i.test(String(e.message)) || e.code === 'TokenInvalid'
        ? 'Discord refused the bot token: check DISCORD_TOKEN (Developer Portal → Bot → Reset Token).'
        : `Could not connect to Discord: ${String(e.message)}`,
    );
  }
  // Everyone the last run left at "Listening…" is answered once, in the background (it may take a while).
  void answerUnfinishedJobs(
    unfinished,
    { jobs: runtime.jobs, store: analyzer.store, log: logger },
    discordRecovery(bot.client, analyzer.classifier.info, logger),
  ).catch((error: unknown) => logger.error({ err: scrub.error(error) }, 'restart recovery failed'));
  try {
    logger.info(await scheduler.start(), 'discord digest scheduler started');
  } catch (error) {
    logger.error({ err: scrub.error(error) }, 'digest scheduler could not start; the bot runs without it');
  }
  return {
    async beginStop() {
      await scheduler.stop();
      await bot.beginStop();
    },
    async disconnect() {
      await bot.disconnect();
      logger.info('discord bot stopped');
    },
  };
}
