import type { Logger } from '../../log.ts';
import { type BotRuntime, digestScheduler, type RunningBot } from '../runtime.ts';
import { answerUnfinishedJobs, unfinishedBeforeStart } from '../shared/restart-recovery.ts';
import { createSlackBot, PLATFORM } from './app.ts';
import type { SlackConfig } from './config.ts';
import { slackDigestPoster } from './digest.ts';
import { redactTokens } from './log.ts';
import { slackRecovery } from './recovery.ts';

/** Logger paths holding Slack secrets. */
export const SLACK_REDACT = [
  'SLACK_BOT_TOKEN',
  'SLACK_APP_TOKEN',
  'SLACK_SIGNING_SECRET',
  '*.SLACK_BOT_TOKEN',
  '*.SLACK_APP_TOKEN',
  '*.SLACK_SIGNING_SECRET',
];

/** Starts the Slack app on the shared runtime and its digest scheduler. */
export async function startSlack(
  runtime: BotRuntime,
  config: SlackConfig,
  logger: Logger,
): Promise<RunningBot> {
  const { analyzer, settings, digests, clock } = runtime;
  const bot = createSlackBot({
    config,
    analyzer,
    analysis: runtime.analysis,
    settings,
    logger,
    queue: runtime.queue,
    limiter: runtime.limiter,
    digest: { store: digests, clock },
    jobs: runtime.jobs,
    deliveries: runtime.deliveries,
    storageHealth: runtime.storageHealth,
  });
  // Taken before connecting: work this process accepts must never be mistaken for the last run's.
  const unfinished = await unfinishedBeforeStart(runtime.jobs, PLATFORM, logger);
  const scheduler = digestScheduler(runtime, PLATFORM, slackDigestPoster(bot.app.client, logger), logger);
  await bot.start();
  // Everyone the last run left at "Analyzing…" is answered once, in the background.
  void answerUnfinishedJobs(
    unfinished,
    { jobs: runtime.jobs, store: analyzer.store, log: logger },
    slackRecovery(bot.app.client, analyzer.classifier.info, logger),
  ).catch((error: unknown) => logger.error({ err: redactTokens(String(error)) }, 'restart recovery failed'));
  try {
    logger.info(await scheduler.start(), 'slack digest scheduler started');
  } catch (error) {
    logger.error(
      { err: redactTokens(String(error)) },
      'digest scheduler could not start; the app runs without it',
    );
  }
  return {
    async beginStop() {
      await scheduler.stop();
      bot.beginStop();
    },
    async disconnect() {
      await bot.disconnect();
      logger.info('slack app stopped');
    },
  };
}
