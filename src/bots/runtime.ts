import { openServices } from '../compose.ts';
import type { Config } from '../config.ts';
import type { AnalyzerDeps } from '../core/analyze.ts';
import type { AnalysisStore } from '../core/ports.ts';
import { SystemClock } from '../digest/clock.ts';
import { type DigestPoster, DigestScheduler } from '../digest/scheduler.ts';
import type { Logger } from '../log.ts';
import { SqliteDigestStore } from '../storage/digest-store.ts';
import { SqliteSettingsStore } from '../storage/settings-store.ts';
import { WorkQueue } from './shared/work-queue.ts';

/** What every bot in one process shares: the model, the stores, the clock and one bounded work queue. */
export interface BotRuntime {
  readonly analyzer: AnalyzerDeps & { readonly store: AnalysisStore };
  readonly settings: SqliteSettingsStore;
  readonly digests: SqliteDigestStore;
  readonly clock: SystemClock;
  /** Shared by every adapter, so two platforms never run more analyses at once than one would. */
  readonly queue: WorkQueue;
  close(): Promise<void>;
}

export class RuntimeConfigError extends Error {
  override readonly name = 'RuntimeConfigError';
}

export async function openBotRuntime(
  config: Config,
  logger: Logger,
  queue: { readonly concurrency: number; readonly maxQueued: number },
): Promise<BotRuntime> {
  if (config.DATABASE_PATH === ':memory:') {
    throw new RuntimeConfigError(
      'DATABASE_PATH must be a file for the bots (settings and results share it).',
    );
  }
  const services = await openServices(config, logger, { databasePath: config.DATABASE_PATH });
  const store = services.analyzer.store;
  if (!store) throw new Error('internal: no results store');
  const settings = new SqliteSettingsStore({ path: config.DATABASE_PATH });
  const digests = new SqliteDigestStore({ path: config.DATABASE_PATH });
  return {
    analyzer: { ...services.analyzer, store },
    settings,
    digests,
    clock: new SystemClock(),
    queue: new WorkQueue(queue),
    async close() {
      await Promise.allSettled([digests.close(), settings.close(), services.close()]);
    },
  };
}

/** A started bot: stop() ends its scheduler, finishes or abandons its work (telling users) and disconnects. */
export interface RunningBot {
  stop(): Promise<void>;
}

/** A platform's mood digest and retention purge on the shared runtime. */
export function digestScheduler(
  runtime: BotRuntime,
  platform: string,
  poster: DigestPoster,
  logger: Logger,
): DigestScheduler {
  const { analyzer, settings, digests, clock } = runtime;
  return new DigestScheduler({
    platform,
    store: analyzer.store,
    settings,
    digests,
    clock,
    poster,
    logger,
    labels: analyzer.classifier.info.trainedLabels,
  });
}
