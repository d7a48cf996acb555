import { humanWait, type RateLimiter } from '../bots/shared/rate-limit.ts';
import { QueueFullError, ShuttingDownError, type WorkQueue } from '../bots/shared/work-queue.ts';
import type { AnalysisQueue } from '../core/analysis-queue.ts';
import type { AnalysisResult, AnalyzerDeps } from '../core/analyze.ts';
import type { AudioInput, StorageMonitor } from '../core/ports.ts';
import type { Logger } from '../log.ts';
import { WebError } from './errors.ts';

/**
 * The web server's whole "run one analysis job" flow: admission (rate limit, storage, queue room), the
 * bounded upload, then the analysis on the bounded work queue through the same AnalysisQueue port as the
 * bots (this process's model, or `annamalai worker` processes when QUEUE_URL is set), stored when a
 * database is configured. No job journal: the answer goes back on the HTTP request itself, which does not
 * survive a restart of this process anyway.
 */
export interface WebJobDeps {
  readonly analyzer: AnalyzerDeps;
  /** Where recordings are analysed: in this process on `analyzer`, or by workers. */
  readonly analysis: AnalysisQueue;
  readonly queue: WorkQueue;
  readonly limiter: RateLimiter;
  readonly uploads: UploadSlots;
  /** Present only with a database: new work is refused while it is lost. */
  readonly storageHealth?: StorageMonitor;
  readonly logger: Logger;
}

export interface WebJobRequest {
  /** Who the rate limit counts against (the client's address). */
  readonly client: string;
  /** Reads the recording; throws a WebError (too large, too slow, malformed). */
  readonly upload: (signal: AbortSignal) => Promise<AudioInput & { readonly name: string }>;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
}

export interface WebJobResult {
  readonly file: string;
  readonly result: AnalysisResult;
  /** The anonymous id the result was stored under, when it was. */
  readonly analysisId?: string;
}

/**
 * Uploads being read at once. Each holds up to MAX_INPUT_MB in memory, so they are bounded like the work
 * queue they are headed for (no more than it could take).
 */
export class UploadSlots {
  readonly #max: number;
  #taken = 0;

  constructor(max: number) {
    this.#max = max;
  }

  tryTake(): boolean {
    if (this.#taken >= this.#max) return false;
    this.#taken++;
    return true;
  }

  release(): void {
    this.#taken = Math.max(0, this.#taken - 1);
  }
}

/** Runs one job; refusals before the analysis are thrown as WebErrors, analysis failures are results. */
export async function runWebJob(deps: WebJobDeps, request: WebJobRequest): Promise<WebJobResult> {
  admit(deps, request.client);
  if (!deps.uploads.tryTake()) throw new WebError('inference.overloaded');
  let input: Awaited<ReturnType<WebJobRequest['upload']>>;
  try {
    input = await request.upload(request.signal);
  } finally {
    deps.uploads.release();
  }
  let result: AnalysisResult;
  try {
    result = await deps.queue.push((queueSignal) =>
      deps.analysis.analyse(
        // No user, no file name: a stored web result is tied to nobody.
        { input, context: { platform: 'web' } },
        { signal: AbortSignal.any([queueSignal, request.signal]) },
      ),
    );
  } catch (error) {
    if (error instanceof QueueFullError) throw new WebError('inference.overloaded', { cause: error });
    if (error instanceof ShuttingDownError) throw new WebError('request.restarting', { cause: error });
    throw error;
  }
  if (result.status === 'failed') {
    deps.logger.info({ code: result.error.code, err: result.error }, 'web analysis failed');
  }
  if (result.status === 'ok' && result.saved && !result.saved.ok) {
    deps.logger.warn({ code: result.saved.error.code }, 'web result could not be stored');
  }
  const analysisId = result.status === 'ok' && result.saved?.ok ? result.saved.analysis.id : undefined;
  return { file: input.name, result, ...(analysisId !== undefined && { analysisId }) };
}

/** The checks that need no upload: answered before a byte of the body is read. */
function admit(deps: WebJobDeps, client: string): void {
  const rate = deps.limiter.take([{ scope: 'client', key: client }]);
  if (!rate.ok) {
    throw new WebError('request.rate_limited', {
      userMessage: `You have sent a lot of recordings just now: please try again ${humanWait(rate.retryAfterMs)}.`,
      headers: { 'retry-after': String(Math.max(1, Math.ceil(rate.retryAfterMs / 1000))) },
    });
  }
  if (deps.storageHealth?.health().state === 'lost') throw new WebError('storage.unavailable');
  if (deps.queue.closing) throw new WebError('request.restarting');
  if (!deps.queue.hasRoom) throw new WebError('inference.overloaded');
}
