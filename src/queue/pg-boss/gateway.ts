import pg from 'pg';
import type { PgBoss } from 'pg-boss';
import type { AnalysisResult, AnalyzeOptions } from '../../core/analyze.ts';
import { AnnamalaiError } from '../../core/errors.ts';
import type { AnalysisJob, AnalysisQueue } from '../../core/ports.ts';
import type { Logger } from '../../log.ts';
import { fromResultData, type ResultData, toJobData } from '../wire.ts';
import { ANALYSIS_QUEUE, DONE_CHANNEL, longestWaitMs, openBoss, type QueueSettings } from './boss.ts';

/** Without a NOTIFY (missed while reconnecting, or a job the supervisor failed) a job is looked at this often. */
const FALLBACK_POLL_MS = 1000;

/**
 * A gateway's side of the queue: the recording is sent as a pg-boss job and the result awaited, woken by the
 * worker's NOTIFY (a slow poll as backstop). The model is never loaded here. A job that fails for good
 * (its retries spent, e.g. workers killed on it) comes back as a failed analysis with a coded error
 * (inference.failed), which the pipeline turns into the usual reply.
 */
export async function openPgBossAnalysis(settings: QueueSettings, logger: Logger): Promise<AnalysisQueue> {
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
  return {
    kind: 'workers',
    async analyse(job: AnalysisJob, options: AnalyzeOptions): Promise<AnalysisResult> {
      options.onProgress?.({ stage: 'decoding' });
      const id = await boss.send(ANALYSIS_QUEUE, { ...toJobData(job) });
      if (!id) throw new Error('pg-boss accepted no job');
      try {
        return await awaitResult(boss, id, waiters, options.signal, maxWaitMs);
      } catch (error) {
        if (options.signal?.aborted) {
          await boss.cancel(ANALYSIS_QUEUE, id).catch(() => undefined);
          return { status: 'failed', durationS: 0, error: new AnnamalaiError('aborted', { cause: error }) };
        }
        throw error;
      }
    },
    async close() {
      await listener.end().catch(() => undefined);
      await boss.stop({ graceful: false, close: true });
    },
  };
}

async function awaitResult(
  boss: PgBoss,
  id: string,
  waiters: Map<string, () => void>,
  signal: AbortSignal | undefined,
  maxWaitMs: number,
): Promise<AnalysisResult> {
  const deadline = AbortSignal.timeout(maxWaitMs);
  const stop = signal ? AbortSignal.any([signal, deadline]) : deadline;
  try {
    for (;;) {
      stop.throwIfAborted();
      // Armed before the look, so a NOTIFY sent while it runs is not missed.
      const woken = wake(id, waiters, stop);
      const job = await boss.getJobById<object>(ANALYSIS_QUEUE, id);
      if (!job) throw new Error(`job ${id} vanished from the queue`);
      if (job.state === 'completed') return fromResultData(job.output as ResultData);
      if (job.state === 'failed' || job.state === 'cancelled') {
        return {
          status: 'failed',
          durationS: 0,
          error: new AnnamalaiError('inference.failed', {
            detail: `job ${id} ${job.state} after ${job.retryCount + 1} attempt(s): ${describe(job.output)}`,
          }),
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
