import type { AnalysisStore, JobJournal, JobRecord } from '../../core/ports.ts';
import type { StoredAnalysis } from '../../core/records.ts';
import type { Logger } from '../../log.ts';

/**
 * On start, every job a previous process accepted and never answered (killed -9, out of memory, power) is
 * answered exactly once: with its stored result when it got that far (or, with a durable queue, once a
 * worker finishes it), else with the restart message (refusals.ts). The adapter renders and delivers (an
 * idempotent edit of the waiting reply, or a post when none was recorded); the job is closed afterwards
 * whatever happened, so a crash loop never answers twice.
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

export interface RecoveryDeps {
  readonly jobs: JobJournal;
  readonly store: Pick<AnalysisStore, 'get' | 'byJob'>;
  readonly log: Logger;
  /** How often the store is asked for the result of a job still in the durable queue. */
  readonly pollMs?: number;
  readonly now?: () => number;
}

/** A job still in the durable queue is looked for this often: a result is delivered within about this. */
const POLL_MS = 1000;

/**
 * Answers each job once and closes it. One rule for every adapter: the job's stored result when there is
 * one (recorded on the job, or stored by a worker under the job's id); else, when the recording was handed
 * to a durable queue (QUEUE_URL) whose workers may still finish it, that result once a worker stores it;
 * the restart message only when the work died with the process (the embedded queue, or killed before the
 * hand-over) or no worker stored a result before the queue's longest wait ran out.
 */
export async function answerUnfinishedJobs<H>(
  open: readonly JobRecord[],
  deps: RecoveryDeps,
  adapter: RecoveryAnswer<H>,
): Promise<{ readonly answered: number; readonly failed: number }> {
  const { log } = deps;
  const now = deps.now ?? Date.now;
  let answered = 0;
  let failed = 0;
  const finish = async (job: JobRecord, stored: StoredAnalysis | undefined) => {
    if (await answerAndClose(job, stored, deps, adapter)) answered++;
    else failed++;
  };
  // Those answerable now go first, one at a time; those still in the queue are awaited side by side.
  const queued: JobRecord[] = [];
  for (const job of open) {
    const stored = await storedResult(job, deps).catch((error: unknown) => {
      log.error({ err: String(error), job: job.id }, 'could not read the result of a recovered job');
      return undefined;
    });
    if (!final(stored) && job.queuedUntil && job.queuedUntil.getTime() > now()) queued.push(job);
    else await finish(job, stored);
  }
  if (queued.length > 0)
    log.info({ jobs: queued.length }, 'waiting for the workers to finish jobs accepted before the restart');
  await Promise.all(queued.map(async (job) => finish(job, await awaitWorker(job, deps, now))));
  // `awaited`: how many of them a worker was still on at the restart.
  log.info({ answered, failed, awaited: queued.length }, 'answered work left unfinished by the last run');
  return { answered, failed };
}

/**
 * Whether a stored analysis is the job's last word. A failed model (inference.failed) is not while the queue
 * may still retry the job on another worker: that attempt's result replaces it under the same job id.
 */
function final(stored: StoredAnalysis | undefined): stored is StoredAnalysis {
  return (
    stored !== undefined &&
    !(stored.outcome.status === 'failed' && stored.outcome.error.code === 'inference.failed')
  );
}

/** The job's stored analysis: the one recorded on it, else one a worker stored under its id. */
async function storedResult(job: JobRecord, deps: RecoveryDeps): Promise<StoredAnalysis | undefined> {
  if (job.analysisId) return deps.store.get(job.analysisId);
  return deps.store.byJob(job.id);
}

/** The result a worker stores for `job`, looked for until the queue gives up on it (undefined then). */
async function awaitWorker(
  job: JobRecord,
  deps: RecoveryDeps,
  now: () => number,
): Promise<StoredAnalysis | undefined> {
  const until = job.queuedUntil?.getTime() ?? 0;
  let stored: StoredAnalysis | undefined;
  for (;;) {
    const wait = Math.min(deps.pollMs ?? POLL_MS, until - now());
    if (wait <= 0) break;
    await new Promise((resolve) => setTimeout(resolve, wait));
    try {
      stored = await deps.store.byJob(job.id);
      if (final(stored)) return stored;
    } catch (error) {
      // A database briefly unreachable: looked for again at the next poll.
      deps.log.warn({ err: String(error), job: job.id }, 'could not look for the result of a queued job');
    }
  }
  deps.log.warn({ job: job.id }, 'no worker stored a result for a job accepted before the restart');
  return stored;
}

/** True when answered; the job is closed either way, so a crash loop never answers twice. */
async function answerAndClose<H>(
  job: JobRecord,
  stored: StoredAnalysis | undefined,
  deps: RecoveryDeps,
  adapter: RecoveryAnswer<H>,
): Promise<boolean> {
  const { jobs, log } = deps;
  let ok = true;
  try {
    await adapter.answer(
      job,
      adapter.parse(safeJson(job.reply)),
      stored?.outcome.status === 'ok' ? stored : undefined,
    );
  } catch (error) {
    ok = false;
    log.error({ err: String(error), job: job.id }, 'could not answer a job left unfinished by a restart');
  }
  await jobs
    .close(job.id)
    .catch((error: unknown) =>
      log.error({ err: String(error), job: job.id }, 'could not close a recovered job'),
    );
  return ok;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
