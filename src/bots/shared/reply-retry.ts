import type { Logger } from '../../log.ts';

/**
 * How a final reply reaches the user when editing the waiting one ("Listening…", "Analyzing…") fails: the
 * edit is retried with backoff (a 5xx, a dropped connection, a lock on our side that delayed it), and if it
 * still fails, or fails for good (the message was deleted, the interaction token expired), the reply is
 * posted as a new message. No one is left at "Listening…". Both adapters use this one policy.
 */
export interface ReplyRetryPolicy {
  /** Edit attempts in all (≥ 1). */
  readonly attempts: number;
  /** Wait before the 2nd, 3rd, … attempt; the last value repeats. */
  readonly delaysMs: readonly number[];
}

export const DEFAULT_REPLY_RETRY: ReplyRetryPolicy = { attempts: 3, delaysMs: [1_000, 4_000] };

export interface FinalReply {
  /** Edits the waiting reply into the final one (idempotent: the same content each time). */
  edit(): Promise<unknown>;
  /** Posts the final reply as a new message. */
  replace(): Promise<unknown>;
  /** True for an edit error no retry can fix (unknown message, expired token): replace at once. */
  permanent?(error: unknown): boolean;
}

export type Delivery = 'edited' | 'replaced' | 'lost';

export async function deliverFinalReply(
  reply: FinalReply,
  log: Logger,
  policy: ReplyRetryPolicy = DEFAULT_REPLY_RETRY,
): Promise<Delivery> {
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    try {
      await reply.edit();
      return 'edited';
    } catch (error) {
      const permanent = reply.permanent?.(error) ?? false;
      log.warn({ err: describe(error), attempt, permanent }, 'could not edit the waiting reply');
      if (permanent || attempt === policy.attempts) break;
      await sleep(policy.delaysMs[Math.min(attempt - 1, policy.delaysMs.length - 1)] ?? 1_000);
    }
  }
  try {
    // Once only: a post whose answer was lost may have landed, and a second one would answer twice.
    await reply.replace();
    log.info('the final reply was posted as a new message instead of an edit');
    return 'replaced';
  } catch (error) {
    log.error({ err: describe(error) }, 'could not deliver the final reply: the user was not answered');
    return 'lost';
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
