// Bounded waits and the resident-set peak for the load benchmark.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Answer, UserOutcome } from './answers.ts';

/** Polls `done` every 50 ms until it holds or `timeoutMs` passes; says which. */
export async function waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** Waits for `work` at most `timeoutMs` (a bot that never goes idle must not hang the benchmark). */
export async function settle(work: Promise<unknown>, timeoutMs: number): Promise<void> {
  const timer = new AbortController();
  await Promise.race([
    work.catch(() => undefined),
    sleep(timeoutMs, undefined, { signal: timer.signal }),
  ]).catch(() => undefined);
  timer.abort();
}

/**
 * Samples this process's RSS every 20 ms (onnxruntime's worker threads included; ffmpeg child processes
 * are not). The event loop can be slow under load, so the sampler runs on an interval timer and the
 * reported peak is a lower bound of the true one.
 */
export function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

/** One user's message on its way: when it left, and the final answers it has got so far. */
export interface Sent {
  readonly sentAt: number;
  answers(): readonly Answer[];
}

export interface Flood {
  readonly outcomes: readonly UserOutcome[];
  /** From the first message sent to the last first answer (or the end of the wait). */
  readonly wallSeconds: number;
  readonly peakRssBytes: number;
}

/**
 * One phase on a running bot: a warm-up message first (so that the flood meets warm sessions, as a running
 * bot's users would), then `n` users sending at once, each waiting at most `waitMs` for a final answer;
 * then every handler is let finish and stray edits get a moment to land, so late duplicates are counted.
 */
export async function flood(o: {
  readonly n: number;
  readonly waitMs: number;
  /** What is sent, for the error when the warm-up gets no answer. */
  readonly what: string;
  readonly warmUp: () => Sent;
  readonly send: (i: number) => Sent;
  /** Resolves when the bot has no work in hand. */
  readonly idle: () => Promise<unknown>;
}): Promise<Flood> {
  const warm = o.warmUp();
  if (!(await waitUntil(() => warm.answers().length > 0, o.waitMs)))
    throw new Error(`the warm-up ${o.what} got no answer`);
  await settle(o.idle(), 10_000);

  const rss = rssSampler();
  const sent = Array.from({ length: o.n }, (_, i) => o.send(i));
  await waitUntil(() => sent.every((s) => s.answers().length > 0), o.waitMs);
  const last = Math.max(...sent.map((s) => s.answers()[0]?.at ?? Date.now()));
  await settle(o.idle(), 10_000);
  await sleep(1000);
  const peakRssBytes = rss.stop();
  const first = Math.min(...sent.map((s) => s.sentAt));
  return {
    outcomes: sent.map((s) => ({ sentAt: s.sentAt, answers: s.answers() })),
    wallSeconds: (last - first) / 1000,
    peakRssBytes,
  };
}
