import type { AnalysisQueue } from '../../core/analysis-queue.ts';
import type { AnalyzerDeps } from '../../core/analyze.ts';
import type { JobJournal } from '../../core/ports.ts';
import type { AnalysisContext } from '../../core/records.ts';
import type { Logger } from '../../log.ts';
import { inProcessAnalysis } from '../../queue/in-process.ts';
import { admit, type Check } from './admission.ts';
import { type JobTicket, openJob } from './job-ticket.ts';
import { savedId } from './not-saved.ts';
import { type ProgressPolicy, type SegmentsDone, throttleProgress } from './progress.ts';
import { analysisReply, downloadReply, type Reply, type ReplyContext, reply } from './replies.ts';
import type { OkResult } from './text.ts';
import { QueueFullError, ShuttingDownError, type WorkQueue } from './work-queue.ts';

/**
 * The job every adapter runs: admission (shared/admission.ts) → job journal opened → the waiting reply →
 * on the shared work queue: download → analyse with throttled, serialised progress → result or coded error
 * → the final reply → journal closed. Adapters differ only in how a request arrives and in their Surface:
 * how a refusal, the waiting reply, progress and the final answer are shown.
 */

export type JobOutcome =
  | { readonly kind: 'ok'; readonly result: OkResult }
  | ({ readonly kind: 'error' } & Reply);

/** How one request's answers are shown on one platform. */
export interface Surface {
  readonly progressPolicy: ProgressPolicy;
  /** Work refused before it started (admission): told to the requester. */
  refuse(refusal: Reply): Promise<void>;
  /**
   * Shows the waiting reply ("Listening…") and records where it is on the ticket. False: it could not be
   * shown and the surface told the user why (the job is dropped); a throw is a failure of the handler.
   */
  open(ticket: JobTicket): Promise<boolean>;
  progress(progress: SegmentsDone): Promise<unknown>;
  /** The final reply, by the shared retry/replace policy (shared/reply-retry.ts). */
  done(outcome: JobOutcome): Promise<unknown>;
}

export interface JobRequest {
  /** Admission, in the shared order, plus any adapter step between. */
  readonly checks: readonly Check[];
  /** The journal record: who asked and where the answer goes (adapter-owned JSON). */
  readonly journal: { readonly platform: string; readonly userId: string; readonly reply: object };
  readonly audio: { readonly name: string; readonly contentType?: string | undefined };
  /** The bounded download of the recording's bytes. */
  readonly download: (signal: AbortSignal) => Promise<Uint8Array>;
  readonly context: AnalysisContext;
}

/** What the pipeline runs on: one per process, shared by every adapter (src/bots/runtime.ts builds it). */
export interface JobPipeline {
  readonly analyzer: AnalyzerDeps;
  /** Where recordings are analysed: absent, in this process on `analyzer`; else e.g. worker processes. */
  readonly analysis?: AnalysisQueue | undefined;
  readonly queue: WorkQueue;
  readonly jobs?: JobJournal | undefined;
  readonly log: Logger;
  /** Takes the platform's secrets out of text before it is logged. */
  readonly redact?: (text: string) => string;
  readonly replies: ReplyContext;
}

/** Runs one request through admission, the queue and the surface; resolves once its reply is final. */
export async function runJob(pipeline: JobPipeline, request: JobRequest, surface: Surface): Promise<void> {
  const { log, replies } = pipeline;
  const admission = await admit(request.checks);
  if (!admission.ok) return surface.refuse(admission.refusal);
  const ticket = await openJob(pipeline.jobs, request.journal, log).catch(() => undefined);
  if (!ticket) return surface.refuse(reply('storage.unavailable', replies));
  let opened: boolean;
  try {
    opened = await surface.open(ticket);
  } catch (error) {
    await ticket.close();
    throw error;
  }
  if (!opened) return ticket.close();
  let outcome: JobOutcome;
  try {
    outcome = await pipeline.queue.push((signal) => analyse(pipeline, request, surface, ticket, signal));
  } catch (error) {
    if (error instanceof ShuttingDownError) outcome = { kind: 'error', ...reply('shutdown', replies) };
    else if (error instanceof QueueFullError)
      outcome = { kind: 'error', ...reply('inference.overloaded', replies) };
    else {
      log.error({ err: redacted(pipeline, error) }, 'analysis job failed');
      outcome = { kind: 'error', ...reply('internal', replies) };
    }
  }
  try {
    await surface.done(outcome);
  } catch (error) {
    log.error({ err: redacted(pipeline, error), outcome: outcome.kind }, 'could not deliver the reply');
  } finally {
    await ticket.close();
  }
}

async function analyse(
  pipeline: JobPipeline,
  request: JobRequest,
  surface: Surface,
  ticket: JobTicket,
  signal: AbortSignal,
): Promise<JobOutcome> {
  const { log, replies } = pipeline;
  let bytes: Uint8Array;
  try {
    bytes = await request.download(signal);
  } catch (error) {
    if (signal.aborted) return { kind: 'error', ...reply('shutdown', replies) };
    const refusal = downloadReply(error, replies);
    log.info({ code: refusal.code, err: redacted(pipeline, error) }, 'download refused or failed');
    return { kind: 'error', ...refusal };
  }
  const progress = throttleProgress(surface.progressPolicy, (p) => surface.progress(p));
  const { audio } = request;
  const analysis = pipeline.analysis ?? inProcessAnalysis(pipeline.analyzer);
  const result = await analysis.analyse(
    {
      input: { bytes, name: audio.name, ...(audio.contentType ? { contentType: audio.contentType } : {}) },
      // The journal's id goes with the job: whoever stores the result stores it once for this job.
      context: { ...request.context, ...(ticket.id !== undefined && { jobId: ticket.id }) },
    },
    { signal, onProgress: progress.onProgress, onQueued: (until) => ticket.queued(until) },
  );
  await progress.settle();
  if (result.status === 'failed') {
    if (signal.aborted) return { kind: 'error', ...reply('shutdown', replies) };
    log.info({ code: result.error.code }, 'analysis failed');
    return { kind: 'error', ...analysisReply(result.error, replies) };
  }
  const stored = savedId(result);
  if (stored) await ticket.analysed(stored);
  return { kind: 'ok', result };
}

function redacted(pipeline: JobPipeline, error: unknown): string {
  return (pipeline.redact ?? String)(String(error));
}
