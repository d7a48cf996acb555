import type { SettingsStore, StorageMonitor } from '../../core/ports.ts';
import type { RateKey, RateLimiter } from './rate-limit.ts';
import { type Reply, type ReplyContext, reply } from './replies.ts';
import type { WorkQueue } from './work-queue.ts';

/**
 * Admission: small checks, each answering "go ahead" or a coded refusal (a Result, as Sapphire's
 * preconditions do), run in one order by every adapter before any work is accepted:
 * stopping → storage lost → opted out → declared size → rate limit → queue room.
 * An adapter may add its own step between them (Slack reads a file's details before its size is known).
 */
export type Admission = { readonly ok: true } | { readonly ok: false; readonly refusal: Reply };
export type Check = () => Admission | Promise<Admission>;

export const ADMITTED: Admission = { ok: true };
export function refused(refusal: Reply): Admission {
  return { ok: false, refusal };
}

/** Runs the checks in order; the first refusal wins and the later checks (the rate limit's count) never run. */
export async function admit(checks: readonly Check[]): Promise<Admission> {
  for (const check of checks) {
    const answer = await check();
    if (!answer.ok) return answer;
  }
  return ADMITTED;
}

/** The process is shutting down: nothing new is accepted. */
export function notStopping(stopping: () => boolean, context: ReplyContext): Check {
  return () => (stopping() ? refused(reply('stopping', context)) : ADMITTED);
}

/** The database is lost (deleted, replaced, read-only): results could not be stored, so no new work. */
export function storageAvailable(monitor: StorageMonitor | undefined, context: ReplyContext): Check {
  return () =>
    monitor?.health().state === 'lost' ? refused(reply('storage.unavailable', context)) : ADMITTED;
}

/** The person whose voice it is opted out. `subject` names them when someone else asked. */
export function notOptedOut(
  settings: Pick<SettingsStore, 'isOptedOut'>,
  who: {
    readonly platform: string;
    readonly speakerId: string;
    readonly requesterId: string;
    readonly subject?: string;
  },
  context: ReplyContext,
): Check {
  return async () => {
    if (!(await settings.isOptedOut(who.platform, who.speakerId))) return ADMITTED;
    return who.speakerId === who.requesterId
      ? refused(reply('opted_out.self', context))
      : refused(reply('opted_out.other', context, who.subject ? { subject: who.subject } : {}));
  };
}

/** The size the platform declared (when it did): empty and too large need no download to refuse. */
export function declaredSize(size: () => number | undefined, context: ReplyContext): Check {
  return () => {
    const bytes = size();
    if (bytes === 0) return refused(reply('audio.empty', context));
    if (bytes !== undefined && bytes > context.limits.maxBytes)
      return refused(reply('audio.too_large', context));
    return ADMITTED;
  };
}

/** Per person and per server/workspace; counts only when it passes. */
export function withinRate(
  limiter: RateLimiter,
  keys: { readonly user: RateKey; readonly workspace?: RateKey | undefined },
  context: ReplyContext,
): Check {
  return () => {
    const decision = limiter.take([keys.user, ...(keys.workspace ? [keys.workspace] : [])]);
    if (decision.ok) return ADMITTED;
    const code = decision.scope === keys.user.scope ? 'rate.user' : 'rate.workspace';
    return refused(reply(code, context, { retryAfterMs: decision.retryAfterMs }));
  };
}

/** The work queue would take it now (else "busy", in the core's words). */
export function queueRoom(queue: Pick<WorkQueue, 'hasRoom' | 'closing'>, context: ReplyContext): Check {
  return () => {
    if (queue.closing) return refused(reply('stopping', context));
    return queue.hasRoom ? ADMITTED : refused(reply('inference.overloaded', context));
  };
}
