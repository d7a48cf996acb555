import pg from 'pg';
import type { PgBoss } from 'pg-boss';
import type { AnalysisJob, AnalysisQueue, QueueOptions } from '../../core/analysis-queue.ts';
import type { AnalysisResult } from '../../core/analyze.ts';
import { AnnamalaiError } from '../../core/errors.ts';
import type { Logger } from '../../log.ts';
import { fromResultData, fromRows, type ResultData, type RowsData, toJobData, toRows } from '../wire.ts';
import {
  ANALYSIS_QUEUE,
  CLASSIFY_QUEUE,
  DONE_CHANNEL,
  longestWaitMs,
  openBoss,
  type QueueSettings,
} from './boss.ts';

/** Without a NOTIFY (missed while reconnecting, or a job the supervisor failed) a job is looked at this often. */
const FALLBACK_POLL_MS = 1000;

/** How a job ended, as the gateway sees it. */
type Ending =
  | { readonly state: 'completed'; readonly output: unknown }
  | { readonly state: 'failed'; readonly detail: string };

/** A gateway's queue: recordings to analyse, and segments to classify (audio the gateway already holds as PCM). */
export interface WorkerGateway extends AnalysisQueue {
  /** The model's rows for these segments, computed by a worker; throws inference.failed when it cannot be. */
  classify(segments: readonly Float32Array[], signal?: AbortSignal): Promise<Float32Array[]>;
}

/**
 * A gateway's side of the queue: the work is sent as a pg-boss job and its result awaited, woken by the
 * worker's NOTIFY (a slow poll as backstop). The model is never loaded here. A job that fails for good
 * (its retries spent, e.g. workers killed on it) comes back as a coded error (inference.failed), which the
 * pipeline turns into the usual reply.
 */
export async function openPgBossAnalysis(settings: QueueSettings, logger: Logger): Promise<WorkerGateway> {
  const boss = await openBoss(settings, logger);
  const waiters = new Map<string, () => void>();
  const listener = new pg.Client({ connectionString: settings.url });
  listener.on('notification', (message) => {
    if (message.payload) waiters.get(message.payload)?.();
  });
  listener.on('error', (error) => logger.warn({ err: String(error) }, 'job queue: the listener failed'));
  try {
    await listener.connect();
    await listener.query(`LISTEN ${DONE_CHANNEL}`);
  } catch (error) {
    await boss.stop({ graceful: false });
    throw error;
  }
  const maxWaitMs = longestWaitMs(settings);
  /** Sends one job and awaits its end; on abort the job is cancelled and the abort rethrown. */
  const submit = async (
    queue: string,
    data: object,
    signal: AbortSignal | undefined,
    onQueued?: (until: Date) => Promise<void>,
  ): Promise<Ending> => {
    const id = await boss.send(queue, data);
    if (!id) throw new Error('pg-boss accepted no job');
    try {
      // After the send, never before: a job recorded as queued is one a worker will really see.
      await onQueued?.(new Date(Date.now() + maxWaitMs));
      return await awaitEnding(boss, queue, id, waiters, signal, maxWaitMs);
    } catch (error) {
      if (signal?.aborted) await boss.cancel(queue, id).catch(() => undefined);
      throw error;
    }
  };
  return {
    kind: 'workers',
    async analyse(job: AnalysisJob, options: QueueOptions): Promise<AnalysisResult> {
      options.onProgress?.({ stage: 'decoding' });
      let ending: Ending;
      try {
        ending = await submit(ANALYSIS_QUEUE, toJobData(job), options.signal, options.onQueued);
      } catch (error) {
        if (!options.signal?.aborted) throw error;
        return { status: 'failed', durationS: 0, error: new AnnamalaiError('aborted', { cause: error }) };
      }
      if (ending.state === 'completed') return fromResultData(ending.output as ResultData);
      return {
        status: 'failed',
        durationS: 0,
        error: new AnnamalaiError('inference.failed', { detail: ending.detail }),
      };
    },
    async classify(segments, signal) {
      const data: RowsData = { rows: toRows(segments) };
      const ending = await submit(CLASSIFY_QUEUE, data, signal);
      if (ending.state === 'failed') throw new AnnamalaiError('inference.failed', { detail: ending.detail });
      return fromRows((ending.output as RowsData).rows);
    },
    async close() {
      await listener.end().catch(() => undefined);
      await boss.stop({ graceful: false, close: true });
    },
  };
}

async function awaitEnding(
  boss: PgBoss,
  queue: string,
  id: string,
  waiters: Map<string, () => void>,
  signal: AbortSignal | undefined,
  maxWaitMs: number,
): Promise<Ending> {
  const deadline = AbortSignal.timeout(maxWaitMs);
  const stop = signal ? AbortSignal.any([signal, deadline]) : deadline;
  try {
    for (;;) {
      stop.throwIfAborted();
      // Armed before the look, so a NOTIFY sent while it runs is not missed.
      const woken = wake(id, waiters, stop);
      const job = await boss.getJobById<object>(queue, id);
      if (!job) throw new Error(`job ${id} vanished from the queue`);
      if (job.state === 'completed') return { state: 'completed', output: job.output };
      if (job.state === 'failed' || job.state === 'cancelled') {
        const attempts = job.retryCount + 1;
        return {
          state: 'failed',
          detail: `job ${id} ${job.state} after ${attempts} attempt(s): ${describe(job.output)}`,
        };
      }
      await woken;
    }
  } finally {
    // Settles the last armed wake (its timer cleared, its entry removed).
    waiters.get(id)?.();
  }
}

/** Resolves on the job's NOTIFY, after the fallback poll interval, or when `stop` aborts. */
function wake(id: string, waiters: Map<string, () => void>, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stop.removeEventListener('abort', done);
      waiters.delete(id);
      resolve();
    };
    const timer = setTimeout(done, FALLBACK_POLL_MS);
    stop.addEventListener('abort', done, { once: true });
    waiters.set(id, done);
  });
}

function describe(output: unknown): string {
  if (output && typeof output === 'object' && 'message' in output) return String(output.message);
  return JSON.stringify(output ?? null);
}
