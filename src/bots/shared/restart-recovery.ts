import type { AnalysisStore, JobJournal, JobRecord } from '../../core/ports.ts';
import type { StoredAnalysis } from '../../core/records.ts';
import type { Logger } from '../../log.ts';

/**
 * On start, every job a previous process accepted and never answered (killed -9, out of memory, power) is
 * answered exactly once: with its stored result when it got that far, else with the restart message
 * (refusals.ts). The adapter renders and delivers (an idempotent edit of the waiting reply, or a post when
 * none was recorded); the job is closed afterwards whatever happened, so a crash loop never answers twice.
 *
 * The list is taken with `unfinishedBeforeStart` before the adapter connects: work accepted by this process
 * must never be mistaken for the last run's.
 */
export async function unfinishedBeforeStart(
  jobs: JobJournal | undefined,
  platform: string,
  log: Logger,
): Promise<JobRecord[]> {
  try {
    return jobs ? await jobs.unfinished(platform) : [];
  } catch (error) {
    // The bot still starts: refusing everyone because last run's bookkeeping is unreadable helps no one.
    log.error({ err: String(error), platform }, 'could not read the work left unfinished by the last run');
    return [];
  }
}

export interface RecoveryAnswer<H> {
  /** The adapter's reply handle from the job's JSON; undefined when unreadable. */
  parse(reply: unknown): H | undefined;
  /** Delivers the answer: `stored` is the job's result when it was stored and is a success. */
  answer(job: JobRecord, handle: H | undefined, stored: StoredAnalysis | undefined): Promise<void>;
}

export async function answerUnfinishedJobs<H>(
  open: readonly JobRecord[],
  deps: {
    readonly jobs: JobJournal;
    readonly store: Pick<AnalysisStore, 'get'>;
    readonly log: Logger;
  },
  adapter: RecoveryAnswer<H>,
): Promise<{ readonly answered: number; readonly failed: number }> {
  const { jobs, store, log } = deps;
  let answered = 0;
  let failed = 0;
  for (const job of open) {
    try {
      const stored = job.analysisId ? await store.get(job.analysisId) : undefined;
      await adapter.answer(
        job,
        adapter.parse(safeJson(job.reply)),
        stored?.outcome.status === 'ok' ? stored : undefined,
      );
      answered++;
    } catch (error) {
      failed++;
      log.error({ err: String(error), job: job.id }, 'could not answer a job left unfinished by a restart');
    }
    await jobs
      .close(job.id)
      .catch((error: unknown) =>
        log.error({ err: String(error), job: job.id }, 'could not close a recovered job'),
      );
  }
  log.info({ answered, failed }, 'answered work left unfinished by the last run');
  return { answered, failed };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
