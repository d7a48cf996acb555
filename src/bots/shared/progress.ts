import type { Progress } from '../../core/analyze.ts';

/**
 * The one progress policy of every surface: at most one progress edit in flight, at most one per
 * `everyMs`, none before `firstAfterMs`, none for recordings too short to need one, and every edit settled
 * before the final reply, so a late (retried, rate-limited) progress edit never lands on top of the result.
 * Platforms differ only in the numbers (Discord edits often, Slack's rate limits want fewer).
 */
export interface ProgressPolicy {
  readonly everyMs: number;
  /** Quiet for this long after the analysis starts (default 0: the first batch may already show). */
  readonly firstAfterMs?: number;
  /** Recordings with fewer speech segments than this show no progress (default 0). */
  readonly minSegments?: number;
}

export interface SegmentsDone {
  readonly done: number;
  readonly total: number;
}

export interface ProgressThrottle {
  readonly onProgress: (progress: Progress) => void;
  /** Resolves once the edit in flight (if any) has landed or failed. */
  settle(): Promise<void>;
}

export function throttleProgress(
  policy: ProgressPolicy,
  send: (progress: SegmentsDone) => Promise<unknown>,
  now: () => number = Date.now,
): ProgressThrottle {
  let next = now() + (policy.firstAfterMs ?? 0);
  let inFlight: Promise<void> | undefined;
  return {
    onProgress(p) {
      if (p.stage !== 'classifying' || p.done === p.total || p.total < (policy.minSegments ?? 0)) return;
      if (inFlight || now() < next) return;
      next = now() + policy.everyMs;
      inFlight = send({ done: p.done, total: p.total })
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => {
          inFlight = undefined;
        });
    },
    async settle() {
      await inFlight;
    },
  };
}
