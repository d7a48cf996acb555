import { openServices } from '../compose.ts';
import { type Config, ConfigError } from '../config.ts';
import type { Logger } from '../log.ts';
import { openBoss } from '../queue/pg-boss/boss.ts';
import { startAnalysisWorker } from '../queue/pg-boss/worker.ts';
import { queueSettings } from '../queue/settings.ts';

/** How long a stopping worker lets its jobs in flight finish before leaving them to another worker. */
const STOP_GRACE_MS = 30_000;

/**
 * `annamalai worker`: loads the model, takes analysis jobs from the queue at QUEUE_URL and stores their
 * results in DATABASE_URL, until SIGTERM/SIGINT. A job still running when the grace period ends is not lost:
 * its heartbeat stops and another worker retries it.
 */
export async function runWorker(config: Config, logger: Logger): Promise<number> {
  const settings = queueSettings(config);
  if (!settings)
    throw new ConfigError('annamalai worker needs QUEUE_URL: the Postgres database of the job queue.');
  if (!config.DATABASE_URL)
    throw new ConfigError(
      'annamalai worker needs DATABASE_URL: the Postgres database the bots read results from.',
    );
  const services = await openServices(config, logger, { databaseUrl: config.DATABASE_URL });
  let boss: Awaited<ReturnType<typeof openBoss>>;
  try {
    boss = await openBoss(settings, logger);
  } catch (error) {
    await services.close();
    throw error;
  }
  const id = await startAnalysisWorker(
    boss,
    services.analyzer,
    { concurrency: config.WORKER_CONCURRENCY },
    logger,
  );
  logger.info({ worker: id, concurrency: config.WORKER_CONCURRENCY }, 'worker ready: taking analysis jobs');
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  logger.info({ signal }, 'worker stopping: finishing the jobs in flight');
  try {
    await boss.stop({ graceful: true, timeout: STOP_GRACE_MS, close: true });
  } finally {
    await services.close();
  }
  return 0;
}
