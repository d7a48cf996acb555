import { hostname } from 'node:os';
import { openServices } from '../compose.ts';
import { type Config, ConfigError } from '../config.ts';
import type { AnalysisQueue } from '../core/analysis-queue.ts';
import type { AnalyzerDeps } from '../core/analyze.ts';
import { isAnnamalaiError } from '../core/errors.ts';
import type {
  AnalysisStore,
  Clock,
  DeliveryLedger,
  DigestStore,
  JobJournal,
  SettingsStore,
  StorageMonitor,
} from '../core/ports.ts';
import { type DigestPoster, DigestScheduler } from '../digest/scheduler.ts';
import type { Logger } from '../log.ts';
import { storageTarget } from '../storage/target.ts';
import { RateLimiter, type RateRule } from './shared/rate-limit.ts';
import { WorkQueue } from './shared/work-queue.ts';

/** What every bot in one process shares: the model, the stores, the clock and one bounded work queue. */
export interface BotRuntime {
  readonly analyzer: AnalyzerDeps & { readonly store: AnalysisStore };
  /** Where recordings are analysed: this process's model, or worker processes when QUEUE_URL is set. */
  readonly analysis: AnalysisQueue;
  readonly settings: SettingsStore;
  readonly digests: DigestStore;
  /** Accepted work, recorded before it is acknowledged and closed once answered. */
  readonly jobs: JobJournal;
  /** Platform event ids already handled (redeliveries after a restart are dropped). */
  readonly deliveries: DeliveryLedger;
  /** 'lost' once the database file was deleted, replaced or became read-only: refuse new work then. */
  readonly storageHealth: StorageMonitor;
  readonly clock: Clock;
  /** Shared by every adapter, so two platforms never run more analyses at once than one would. */
  readonly queue: WorkQueue;
  /** One rate limiter with every platform's rules (scopes are named per platform). */
  readonly limiter: RateLimiter;
  close(): Promise<void>;
}

export class RuntimeConfigError extends ConfigError {
  override readonly name: string = 'RuntimeConfigError';
}

export async function openBotRuntime(
  config: Config,
  logger: Logger,
  queue: { readonly concurrency: number; readonly maxQueued: number },
  rateRules: Readonly<Record<string, RateRule>> = {},
): Promise<BotRuntime> {
  const target = storageTarget(config);
  const variable = target.kind === 'postgres' ? 'DATABASE_URL' : 'DATABASE_PATH';
  if (target.kind === 'sqlite' && target.path === ':memory:') {
    throw new RuntimeConfigError(
      'DATABASE_PATH must be a file for the bots (settings and results share it).',
    );
  }
  if (config.QUEUE_URL && target.kind !== 'postgres') {
    throw new RuntimeConfigError(
      'QUEUE_URL needs DATABASE_URL: the workers store results in the Postgres database the bots read.',
    );
  }
  let services: Awaited<ReturnType<typeof openServices>>;
  try {
    services = await openServices(config, logger, {
      ...(target.kind === 'postgres' ? { databaseUrl: target.url } : { databasePath: target.path }),
      analysis: 'queue',
      owner: config.GATEWAY_ID ?? hostname(),
    });
  } catch (error) {
    // A database that cannot be written is a start-up configuration problem: one clear line, non-zero exit.
    if (isAnnamalaiError(error) && error.code === 'storage.unavailable')
      throw new RuntimeConfigError(`${variable}: ${error.message.replace(/^storage\.unavailable: /, '')}`);
    throw error;
  }
  const { storage } = services;
  if (!storage) throw new Error('internal: no database');
  return {
    analyzer: { ...services.analyzer, store: storage.results },
    analysis: services.analysis,
    settings: storage.settings,
    digests: storage.digests,
    jobs: storage.jobs,
    deliveries: storage.deliveries,
    storageHealth: storage.health,
    clock: services.clock,
    // The one owner of the process's work queue and rate limiter: src/bots/process.ts shuts the queue.
    queue: new WorkQueue(queue),
    limiter: new RateLimiter(rateRules),
    async close() {
      await services.close();
    },
  };
}

/**
 * A started bot, stopped in two steps around the shared work queue, which only its owner (the process,
 * src/bots/process.ts) shuts: `beginStop` ends the scheduler and refuses new work (voice sessions hand in
 * their last analyses), then the queue is shut (waiting jobs abandoned, running ones given the grace period,
 * every affected user told), then `disconnect` waits for those replies and leaves the platform.
 */
export interface RunningBot {
  beginStop(): Promise<void>;
  disconnect(): Promise<void>;
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
