import type { Logger } from '../../log.ts';
import { type BotRuntime, digestScheduler, type RunningBot } from '../runtime.ts';
import { createSlackBot, PLATFORM } from './app.ts';
import type { SlackConfig } from './config.ts';
import { slackDigestPoster } from './digest.ts';
import { redactTokens } from './log.ts';

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
    settings,
    logger,
    queue: runtime.queue,
    digest: { store: digests, clock },
  });
  const scheduler = digestScheduler(runtime, PLATFORM, slackDigestPoster(bot.app.client, logger), logger);
  await bot.start();
  try {
    logger.info(await scheduler.start(), 'slack digest scheduler started');
  } catch (error) {
    logger.error(
      { err: redactTokens(String(error)) },
      'digest scheduler could not start; the app runs without it',
    );
  }
  return {
    async stop() {
      await scheduler.stop();
      // The queue is shared: shut it here too (a no-op when Discord already did) so that clips still
      // waiting are abandoned with a reply instead of holding the app open.
      const queued = await runtime.queue.shutdown(config.SHUTDOWN_GRACE_S * 1000);
      logger.info({ ...queued, ...(await bot.stop()) }, 'slack app stopped');
    },
  };
}
