import { PgBoss } from 'pg-boss';
import type { Logger } from '../../log.ts';

/** The one queue of analysis jobs in pg-boss's schema of the Postgres database at QUEUE_URL. */
export const ANALYSIS_QUEUE = 'annamalai-analyse';
/** Segments a gateway holds as PCM already (Discord voice channels), classified by a worker's model. */
export const CLASSIFY_QUEUE = 'annamalai-classify';
/** Postgres NOTIFY channel a worker signals on once a job is completed, so gateways need not poll fast. */
export const DONE_CHANNEL = 'annamalai_analysis_done';

export interface QueueSettings {
  readonly url: string;
  /** Attempts after the first before the job fails for good. */
  readonly retryLimit: number;
  /** A worker that stops heartbeating this long (killed, frozen) loses the job to another (pg-boss: >= 10). */
  readonly heartbeatSeconds: number;
  /** How often this process checks for jobs whose worker stopped heartbeating. */
  readonly superviseSeconds: number;
  /** The longest one attempt may run. */
  readonly expireSeconds: number;
}

/** Starts pg-boss (installing or migrating its schema) and makes sure the analysis queue exists. */
export async function openBoss(settings: QueueSettings, logger: Logger): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: settings.url,
    schedule: false,
    // Workers are woken by pg-boss's NOTIFY when a job is sent, instead of finding it at their next poll.
    useListenNotify: true,
    superviseIntervalSeconds: settings.superviseSeconds,
    // Dead workers' jobs are found in the per-queue monitor pass, which is gated by this interval too.
    monitorIntervalSeconds: settings.superviseSeconds,
    // A few connections: one LISTEN, one fetch loop, the odd complete/send; the stores have their own pool.
    max: 4,
    // Finished jobs (and their audio) are deleted at this pace.
    maintenanceIntervalSeconds: 60,
  });
  boss.on('error', (error: unknown) => logger.warn({ err: String(error) }, 'job queue error'));
  await boss.start();
  for (const name of [ANALYSIS_QUEUE, CLASSIFY_QUEUE]) await createQueue(boss, name, settings);
  return boss;
}

async function createQueue(boss: PgBoss, name: string, settings: QueueSettings): Promise<void> {
  await boss.createQueue(name, {
    notify: true,
    retryLimit: settings.retryLimit,
    retryDelay: 1,
    heartbeatSeconds: settings.heartbeatSeconds,
    expireInSeconds: settings.expireSeconds,
    // A job holds the audio: it is kept no longer than it is needed (the project never stores audio). The
    // gateway reads a result as soon as it is told; one never started is dropped once no gateway waits.
    deleteAfterSeconds: 60,
    retentionSeconds: Math.ceil(longestWaitMs(settings) / 1000),
  });
}

/**
 * How long a gateway waits for a job at most: every attempt running to its expiry, each found dead one
 * heartbeat and one supervision later, plus a minute for queueing.
 */
export function longestWaitMs(settings: QueueSettings): number {
  const attempt = settings.expireSeconds + settings.heartbeatSeconds + settings.superviseSeconds + 1;
  return ((settings.retryLimit + 1) * attempt + 60) * 1000;
}
