/**
 * One bounded work queue for every adapter (Discord now, Slack next): at most `concurrency` jobs run, at
 * most `maxQueued` wait; anything beyond is refused at once so the caller can say "busy" instead of
 * piling up. On shutdown, waiting jobs are abandoned, running ones get a grace period and are then
 * aborted through their AbortSignal.
 */

export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
}

export class ShuttingDownError extends Error {
  override readonly name = 'ShuttingDownError';
}

export interface WorkQueueOptions {
  readonly concurrency: number;
  readonly maxQueued: number;
}

export type Work<T> = (signal: AbortSignal) => Promise<T>;

interface Entry {
  readonly start: () => void;
  readonly abandon: (error: Error) => void;
}

export interface ShutdownReport {
  /** Jobs that were waiting and never started. */
  readonly abandoned: number;
  /** Running jobs that had to be aborted after the grace period. */
  readonly aborted: number;
}

export class WorkQueue {
  readonly #options: WorkQueueOptions;
  readonly #waiting: Entry[] = [];
  readonly #running = new Set<{ controller: AbortController; done: Promise<unknown> }>();
  #closing = false;

  constructor(options: WorkQueueOptions) {
    if (options.concurrency < 1) throw new RangeError('concurrency must be at least 1');
    this.#options = options;
  }

  get running(): number {
    return this.#running.size;
  }
  get waiting(): number {
    return this.#waiting.length;
  }
  get closing(): boolean {
    return this.#closing;
  }
  /** Would `push` accept a job now? */
  get hasRoom(): boolean {
    return (
      !this.#closing &&
      (this.#running.size < this.#options.concurrency || this.#waiting.length < this.#options.maxQueued)
    );
  }

  /** Runs `work` when a slot frees; rejects with QueueFullError or ShuttingDownError without running it. */
  push<T>(work: Work<T>, options: { readonly onStart?: () => void } = {}): Promise<T> {
    if (this.#closing) return Promise.reject(new ShuttingDownError('the work queue is shutting down'));
    if (!this.hasRoom) return Promise.reject(new QueueFullError('the work queue is full'));
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        const controller = new AbortController();
        options.onStart?.();
        const done = Promise.resolve()
          .then(() => work(controller.signal))
          .then(resolve, reject);
        const slot = { controller, done };
        this.#running.add(slot);
        void done.finally(() => {
          this.#running.delete(slot);
          this.#next();
        });
      };
      if (this.#running.size < this.#options.concurrency) start();
      else this.#waiting.push({ start, abandon: reject });
    });
  }

  #next(): void {
    if (this.#closing) return;
    while (this.#running.size < this.#options.concurrency) {
      const entry = this.#waiting.shift();
      if (!entry) return;
      entry.start();
    }
  }

  /** Refuses new work, abandons waiting jobs, gives running ones `graceMs` to finish, then aborts them. */
  async shutdown(graceMs: number): Promise<ShutdownReport> {
    this.#closing = true;
    const waiting = this.#waiting.splice(0);
    for (const entry of waiting) entry.abandon(new ShuttingDownError('abandoned at shutdown'));
    const running = [...this.#running];
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      Promise.allSettled(running.map((r) => r.done)).then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), graceMs);
      }),
    ]);
    clearTimeout(timer);
    let aborted = 0;
    if (timedOut) {
      for (const r of this.#running) {
        aborted++;
        r.controller.abort(new ShuttingDownError('aborted at shutdown'));
      }
      await Promise.allSettled([...this.#running].map((r) => r.done));
    }
    return { abandoned: waiting.length, aborted };
  }
}
