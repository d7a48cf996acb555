import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AnnamalaiError } from '../core/errors.ts';
import { abortedError, timeoutError } from './guard.ts';
import type { InProcessOutcome, InProcessReply, InProcessRequest } from './in-process.ts';

/**
 * Runs the in-process decoders in worker threads, one decode per worker at a time, so that a slow, huge or hostile
 * file can stall, exhaust or crash only its own worker: the event loop keeps serving everyone else. A worker that
 * crashes, runs out of heap or outlives the decode timeout is terminated and its file fails with a coded error;
 * one healthy worker is kept warm for the next file.
 *
 * The heap cap (resourceLimits) covers V8 objects only: sample buffers live outside the V8 heap, and they are
 * bounded before allocation instead (input ≤ maxBytes, output ≤ maxDurationSeconds, resampler table ≤ 8 MB).
 */

export interface DecodeWorkerOptions {
  /** Worker entry; tests pass one that wraps the real one with injected faults. */
  readonly url?: URL;
  /** V8 old-generation heap of one decode worker, in MB. */
  readonly maxOldGenerationSizeMb?: number;
  /** Decodes running at once; more wait their turn (their timeout counts from the call). */
  readonly maxWorkers?: number;
}

/** Minimal logger (pino's Logger fits). */
interface WorkerLogger {
  warn(obj: object, msg: string): void;
}

const DEFAULT_URL = new URL('./decode-worker.ts', import.meta.url);
/** Decoding keeps its samples in typed arrays (outside this heap); 128 MB is several times what a 10-min Opus file needs. */
const DEFAULT_HEAP_MB = 128;
/** Workers kept warm between decodes: the next file skips the start-up of a thread. */
const MAX_IDLE = 1;

export type DecodeJob = Omit<InProcessRequest, 'id'>;

export class DecodeWorkers {
  readonly #url: URL;
  readonly #heapMb: number;
  readonly #logger: WorkerLogger;
  readonly #idle: Worker[] = [];
  readonly #maxWorkers: number;
  #busy = 0;
  readonly #waiting: (() => void)[] = [];
  #nextId = 1;

  constructor(options: DecodeWorkerOptions = {}, logger: WorkerLogger = { warn: () => {} }) {
    this.#url = options.url ?? DEFAULT_URL;
    this.#heapMb = options.maxOldGenerationSizeMb ?? DEFAULT_HEAP_MB;
    // Each worker costs a thread and ~10-20 MB; more decodes at once than cores gain nothing.
    this.#maxWorkers = options.maxWorkers ?? Math.max(2, availableParallelism());
    this.#logger = logger;
  }

  /** Decodes in a worker; rejects with a coded error on timeout, abort, crash or out-of-memory. */
  async run(job: DecodeJob, signal?: AbortSignal): Promise<InProcessOutcome> {
    if (signal?.aborted) throw abortedError(signal);
    const deadline = Date.now() + job.timeoutMs;
    await this.#takeSlot(job.timeoutMs, signal);
    try {
      return await this.#dispatch({ ...job, timeoutMs: Math.max(1, deadline - Date.now()) }, signal);
    } finally {
      this.#busy--;
      this.#waiting.shift()?.();
    }
  }

  /** Waits for one of the `maxWorkers` slots, at most `timeoutMs`, or until aborted. */
  #takeSlot(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.#busy < this.#maxWorkers) {
      this.#busy++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const at = this.#waiting.indexOf(grant);
        if (at >= 0) this.#waiting.splice(at, 1);
      };
      const grant = () => {
        done();
        this.#busy++;
        resolve();
      };
      const onAbort = () => {
        done();
        reject(abortedError(signal as AbortSignal));
      };
      const timer = setTimeout(() => {
        done();
        reject(timeoutError(timeoutMs));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(grant);
    });
  }

  #dispatch(job: DecodeJob, signal: AbortSignal | undefined): Promise<InProcessOutcome> {
    if (signal?.aborted) return Promise.reject(abortedError(signal));
    const worker = this.#idle.pop() ?? this.#spawn();
    worker.ref();
    const id = this.#nextId++;
    // An exact copy: cloning a view would copy its whole backing buffer, and the caller keeps its own bytes.
    const bytes = new Uint8Array(job.bytes);
    return new Promise<InProcessOutcome>((resolve, reject) => {
      const settle = (healthy: boolean) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        signal?.removeEventListener('abort', onAbort);
        if (healthy) this.#release(worker);
        else void worker.terminate();
      };
      const onMessage = (reply: InProcessReply) => {
        if (reply.id !== id) return;
        settle(true);
        const { id: _, ...outcome } = reply;
        resolve(outcome);
      };
      const onError = (error: Error & { code?: string }) => {
        settle(false);
        const outOfMemory = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
        const detail = outOfMemory
          ? `decode worker ran out of memory (heap limit ${this.#heapMb} MB)`
          : `decode worker crashed: ${error.message}`;
        this.#logger.warn({ err: error, kind: job.kind }, detail);
        reject(new AnnamalaiError('audio.corrupt', { cause: error, detail }));
      };
      const onExit = (code: number) => {
        settle(false);
        reject(new AnnamalaiError('audio.corrupt', { detail: `decode worker exited with code ${code}` }));
      };
      const onAbort = () => {
        settle(false);
        reject(abortedError(signal as AbortSignal));
      };
      // A worker stuck in synchronous work never reaches its own deadline check: it is stopped from here.
      const timer = setTimeout(() => {
        settle(false);
        reject(timeoutError(job.timeoutMs));
      }, job.timeoutMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      signal?.addEventListener('abort', onAbort, { once: true });
      const request: InProcessRequest = { ...job, id, bytes };
      worker.postMessage(request, [bytes.buffer]);
    });
  }

  /** Stops the idle workers (busy ones end with their decode). */
  async close(): Promise<void> {
    const idle = this.#idle.splice(0);
    await Promise.all(idle.map((w) => w.terminate()));
  }

  #spawn(): Worker {
    const worker = new Worker(this.#url, { resourceLimits: { maxOldGenerationSizeMb: this.#heapMb } });
    // Errors of a worker between decodes (or after its decode settled) must not become uncaught exceptions.
    worker.on('error', () => {});
    worker.once('exit', () => {
      const at = this.#idle.indexOf(worker);
      if (at >= 0) this.#idle.splice(at, 1);
    });
    return worker;
  }

  #release(worker: Worker): void {
    if (this.#idle.length >= MAX_IDLE) {
      void worker.terminate();
      return;
    }
    worker.unref(); // an idle worker never keeps the process alive
    this.#idle.push(worker);
  }
}
