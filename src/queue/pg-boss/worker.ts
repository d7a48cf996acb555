import type { PgBoss } from 'pg-boss';
import { type AnalyzerDeps, analyzeRecording } from '../../core/analyze.ts';
import type { Logger } from '../../log.ts';
import {
  fromJobData,
  fromRows,
  type JobData,
  type ResultData,
  type RowsData,
  toResultData,
  toRows,
} from '../wire.ts';
import { ANALYSIS_QUEUE, CLASSIFY_QUEUE, DONE_CHANNEL } from './boss.ts';

export interface WorkerOptions {
  /** Jobs this process runs at once. */
  readonly concurrency: number;
  /** How often an idle worker looks for jobs when no NOTIFY woke it (pg-boss: >= 0.5 s). */
  readonly pollingSeconds?: number;
}

/**
 * Takes analysis jobs from the queue and runs them on this process's model, storing each result as the bots
 * would. A coded failure (audio.corrupt, audio.silent…) is a result, completed like a success; only a throw
 * (a crashed model, a lost database) fails the attempt, and pg-boss retries it up to its limit. A worker
 * killed mid-job stops heartbeating: the job goes to another worker. Resolves with the worker's id.
 */
export async function startAnalysisWorker(
  boss: PgBoss,
  analyzer: AnalyzerDeps,
  options: WorkerOptions,
  logger: Logger,
): Promise<string> {
  const work = {
    batchSize: 1,
    localConcurrency: options.concurrency,
    pollingIntervalSeconds: options.pollingSeconds ?? 2,
    // New jobs wake workers by NOTIFY, but a retried one (its worker died) does not: keep polling often.
    notifyPollingIntervalSeconds: options.pollingSeconds ?? 2,
  };
  // Segments a gateway already holds as PCM (Discord voice channels): only the model runs here.
  await boss.work<RowsData, RowsData>(CLASSIFY_QUEUE, work, async ([job]) => {
    if (!job) throw new Error('pg-boss handed over no job');
    const rows = await analyzer.classifier.classify(fromRows(job.data.rows), job.signal);
    const output = { rows: toRows(rows) };
    await boss.complete(CLASSIFY_QUEUE, { id: job.id, retryCount: job.retryCount }, output);
    await notifyDone(boss, job.id, logger);
    return output;
  });
  return boss.work<JobData, ResultData>(ANALYSIS_QUEUE, work, async ([job]) => {
    if (!job) throw new Error('pg-boss handed over no job');
    const started = performance.now();
    logger.info({ job: job.id, attempt: job.retryCount + 1 }, 'analysis job started');
    const { input, context } = fromJobData(job.data);
    const result = await analyzeRecording(analyzer, input, context, { signal: job.signal });
    logger.info(
      {
        job: job.id,
        attempt: job.retryCount + 1,
        status: result.status,
        ...(result.status === 'failed' && { code: result.error.code }),
        ms: Math.round(performance.now() - started),
      },
      'analysis job done',
    );
    if (result.status === 'failed' && result.error.code === 'inference.failed') {
      // The model itself failed: worth another attempt (maybe on another worker), not yet an answer.
      throw result.error;
    }
    // Completed here (fenced to this attempt) rather than by pg-boss after the handler returns, so the
    // gateway's NOTIFY comes after the result is committed; pg-boss's own completion then finds nothing.
    const output = toResultData(result);
    await boss.complete(ANALYSIS_QUEUE, { id: job.id, retryCount: job.retryCount }, output);
    await notifyDone(boss, job.id, logger);
    return output;
  });
}

async function notifyDone(boss: PgBoss, id: string, logger: Logger): Promise<void> {
  // A lost NOTIFY costs the gateway one fallback poll interval, never the answer.
  try {
    await boss.getDb().executeSql('SELECT pg_notify($1, $2)', [DONE_CHANNEL, id]);
  } catch (error) {
    logger.warn({ err: String(error), job: id }, 'job queue: could not notify the gateway');
  }
}
