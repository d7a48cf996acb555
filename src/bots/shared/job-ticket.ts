import type { JobJournal } from '../../core/ports.ts';
import type { Logger } from '../../log.ts';

/**
 * One accepted piece of work in the job journal: opened before the user is told "Listening…", pointed at the
 * waiting reply once it exists, marked with the stored result, closed once answered. A process killed in
 * between leaves it open, and the restarted process answers it (restart-recovery.ts). Without a journal
 * (unit tests, the CLI) every step is a no-op.
 */
export interface JobTicket {
  /** The journal's id of the job (undefined without a journal): results are stored once per job id. */
  readonly id: string | undefined;
  /** Where the waiting reply is: adapter-owned JSON the restarted process reads back. */
  reply(handle: object): Promise<void>;
  /** The result is stored under this id: after a restart it can be shown instead of "send it again". */
  analysed(analysisId: string): Promise<void>;
  /** Handed to a durable queue: a worker may deliver the result until `until`, also after a restart. */
  queued(until: Date): Promise<void>;
  /** Answered: never answered again. Idempotent. */
  close(): Promise<void>;
}

const NO_TICKET: JobTicket = {
  id: undefined,
  reply: async () => undefined,
  queued: async () => undefined,
  analysed: async () => undefined,
  close: async () => undefined,
};

/**
 * Opens the job; throws when the journal cannot record it (the caller refuses the work: accepting what
 * cannot survive a restart is what left users waiting forever). Later steps only log their failures: the
 * user's answer matters more than the bookkeeping.
 */
export async function openJob(
  jobs: JobJournal | undefined,
  job: { readonly platform: string; readonly userId: string; readonly reply: object },
  log: Logger,
  now: Date = new Date(),
): Promise<JobTicket> {
  if (!jobs) return NO_TICKET;
  const id = await jobs.open({
    platform: job.platform,
    userId: job.userId,
    reply: JSON.stringify(job.reply),
    createdAt: now,
  });
  let closed = false;
  const soft = async (what: string, step: () => Promise<void>) => {
    try {
      await step();
    } catch (error) {
      log.warn({ err: String(error), job: id }, `job journal: could not ${what}`);
    }
  };
  return {
    id,
    queued: (until) => soft('record the queued job', () => jobs.queued(id, until)),
    reply: (handle) => soft('record the reply', () => jobs.setReply(id, JSON.stringify(handle))),
    analysed: (analysisId) => soft('record the result', () => jobs.setAnalysis(id, analysisId)),
    close: async () => {
      if (closed) return;
      closed = true;
      await soft('close the job', () => jobs.close(id));
    },
  };
}
