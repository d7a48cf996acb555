// Bounded waits and the resident-set peak for the load benchmark.
import { setTimeout as sleep } from 'node:timers/promises';

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
