/**
 * A pool of inference worker threads with a bounded, batching FIFO queue.
 *
 * - Each classify call becomes a job of N segments. Idle workers take up to `maxBatch` segments
 *   from the head of the queue, across jobs, so concurrent short recordings share batches.
 * - Backpressure: fail fast. A call whose segments would push the number of waiting segments past
 *   `maxQueue` is rejected at once with inference.overloaded (callers tell the user to retry), so
 *   memory and latency stay bounded. A call is always admitted when the queue is empty, so one
 *   long recording can never be refused outright.
 * - Every wait is bounded: worker start (`startTimeoutMs`, else model.invalid), each batch
 *   (`batchTimeoutMs`: a hung worker is terminated and replaced, its jobs fail with
 *   inference.failed), the caller's AbortSignal (rejects with `aborted` at once, the queued
 *   segments are dropped), and close().
 * - A worker that crashes fails its in-flight jobs with inference.failed and is replaced; after
 *   `maxRestarts` consecutive failed replacements the pool stops and fails everything queued.
 */

import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Normaliser } from '../core/baseline.ts';
import { AnnamalaiError, type ErrorCode } from '../core/errors.ts';
import type { SpeakerRow } from '../core/ports.ts';
import { ensembleGraphs, type LoadedModel } from './manifest.ts';
import type { DeviceChoice, DeviceSetting } from './onnx.ts';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.ts';
import { disableOnnxTelemetry } from './telemetry.ts';

export interface PoolOptions {
  readonly model: LoadedModel;
  readonly device: DeviceSetting;
  readonly workers: number;
  readonly threadsPerWorker: number;
  /** Most segments waiting for a worker (not counting those being computed). */
  readonly maxQueue: number;
  /** Most segments per onnxruntime run. */
  readonly maxBatch: number;
  readonly startTimeoutMs: number;
  readonly batchTimeoutMs: number;
  /** How long close() lets in-flight batches finish before terminating the workers. */
  readonly closeTimeoutMs: number;
  readonly maxRestarts: number;
  readonly logger?: Logger;
  /** Worker entry; tests swap in a wrapper that can crash on demand. */
  readonly workerUrl?: URL;
}

export const POOL_DEFAULTS = {
  maxQueue: 256,
  maxBatch: 8,
  startTimeoutMs: 60_000,
  batchTimeoutMs: 60_000,
  closeTimeoutMs: 10_000,
  maxRestarts: 3,
} as const;

/** One segment's result: the main head's probabilities, and with a baseline head the embedding (and baseline). */
export type PoolRow = Omit<SpeakerRow, 'embedding'> & { readonly embedding?: Float32Array };

interface Job {
  readonly segments: readonly Float32Array[];
  /** The speaker's voice-baseline normaliser: the worker also runs the baseline head on these rows. */
  readonly normaliser: Normaliser | undefined;
  readonly results: (PoolRow | undefined)[];
  /** Index of the next segment not yet handed to a worker. */
  next: number;
  remaining: number;
  settled: boolean;
  readonly resolve: (rows: PoolRow[]) => void;
  readonly reject: (error: AnnamalaiError) => void;
  readonly cleanup: () => void;
}

interface Batch {
  readonly id: number;
  readonly parts: readonly { readonly job: Job; readonly index: number }[];
  readonly timer: NodeJS.Timeout;
}

interface Slot {
  readonly worker: Worker;
  /** Settles when the thread has ended. */
  readonly exited: Promise<number>;
  ready: boolean;
  dead: boolean;
  batch: Batch | undefined;
}

export interface PoolStats {
  readonly workers: number;
  readonly queuedSegments: number;
  readonly busyWorkers: number;
  /** Inference threads of every pool in this process not yet ended (retired ones included). */
  readonly liveThreads: number;
  readonly restarts: number;
}

const DEFAULT_WORKER_URL = new URL('./worker.ts', import.meta.url);
/** Inference threads of every pool in this process that have not ended (for stats and tests). */
const liveThreads = new Set<Worker>();

export class InferencePool {
  readonly device: DeviceChoice;
  readonly #options: PoolOptions;
  readonly #slots = new Set<Slot>();
  /** Every thread this pool adopted that has not ended yet. */
  readonly #spawned = new Set<Slot>();
  /** Replacement workers still starting. */
  readonly #starting = new Set<Promise<void>>();
  readonly #queue: Job[] = [];
  #queued = 0;
  #nextBatchId = 1;
  #restarts = 0;
  #failedRestarts = 0;
  #closing: Promise<void> | undefined;
  #broken: AnnamalaiError | undefined;
  readonly #width: number;
  readonly #segmentSamples: number;
  /** The embedding width when the model has a voice-baseline head. */
  readonly #dims: number | undefined;

  private constructor(options: PoolOptions, device: DeviceChoice) {
    this.#options = options;
    this.device = device;
    this.#width = options.model.manifest.labels.length;
    this.#segmentSamples = options.model.manifest.segment_samples;
    this.#dims = options.model.voiceBaseline?.spec.dims;
  }

  /** Starts every worker; the first one chooses the device, the others are pinned to its choice. */
  static async start(options: PoolOptions): Promise<InferencePool> {
    if (!Number.isInteger(options.workers) || options.workers < 1)
      throw new RangeError('workers must be ≥ 1');
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1)
      throw new RangeError('maxBatch must be ≥ 1');
    const first = await spawn(options, options.device);
    const pool = new InferencePool({ ...options, device: first.device.kind }, first.device);
    pool.#adopt(first.slot);
    const rest = await Promise.allSettled(
      Array.from({ length: options.workers - 1 }, () => spawn(options, first.device.kind)),
    );
    for (const r of rest) if (r.status === 'fulfilled') pool.#adopt(r.value.slot);
    const failed = rest.find((r) => r.status === 'rejected');
    if (failed) {
      await pool.close();
      throw failed.reason;
    }
    options.logger?.info(
      {
        device: first.device.kind,
        reason: first.device.reason,
        workers: options.workers,
        threadsPerWorker: options.threadsPerWorker,
      },
      `inference on ${first.device.kind}: ${first.device.reason}`,
    );
    return pool;
  }

  stats(): PoolStats {
    let busy = 0;
    for (const s of this.#slots) if (s.batch) busy++;
    return {
      workers: this.#slots.size,
      queuedSegments: this.#queued,
      busyWorkers: busy,
      liveThreads: liveThreads.size,
      restarts: this.#restarts,
    };
  }

  /** Probabilities for each segment, in order ([labels] each). */
  async run(segments: readonly Float32Array[], signal?: AbortSignal): Promise<Float32Array[]> {
    return (await this.runRows(segments, undefined, signal)).map((row) => row.probabilities);
  }

  /**
   * Each segment's row, in order: with a voice-baseline head also its embedding, and with a normaliser
   * the baseline head's probabilities on it.
   */
  runRows(
    segments: readonly Float32Array[],
    normaliser: Normaliser | undefined,
    signal?: AbortSignal,
  ): Promise<PoolRow[]> {
    if (signal?.aborted) return Promise.reject(new AnnamalaiError('aborted', { cause: signal.reason }));
    if (this.#closing)
      return Promise.reject(new AnnamalaiError('aborted', { detail: 'the classifier is closed' }));
    if (this.#broken && this.#slots.size === 0) return Promise.reject(this.#broken);
    for (const [i, s] of segments.entries()) {
      if (s.length !== this.#segmentSamples) {
        return Promise.reject(
          new AnnamalaiError('inference.failed', {
            detail: `segment ${i} has ${s.length} samples, expected ${this.#segmentSamples}`,
          }),
        );
      }
    }
    if (normaliser && normaliser.centre.length !== this.#dims) {
      return Promise.reject(
        new AnnamalaiError('inference.failed', {
          detail: `a voice-baseline normaliser of ${normaliser.centre.length} dims for a model with ${this.#dims ?? 'no baseline head'}`,
        }),
      );
    }
    if (segments.length === 0) return Promise.resolve([]);
    if (this.#queued > 0 && this.#queued + segments.length > this.#options.maxQueue) {
      return Promise.reject(
        new AnnamalaiError('inference.overloaded', {
          detail: `${this.#queued} segments queued, limit ${this.#options.maxQueue}`,
        }),
      );
    }
    return new Promise<PoolRow[]>((resolve, reject) => {
      const onAbort = () => this.#fail(job, new AnnamalaiError('aborted', { cause: signal?.reason }));
      const job: Job = {
        segments,
        normaliser,
        results: new Array<PoolRow | undefined>(segments.length).fill(undefined),
        next: 0,
        remaining: segments.length,
        settled: false,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(job);
      this.#queued += segments.length;
      this.#dispatch();
    });
  }

  /** Rejects what is queued, lets in-flight batches finish (bounded), then terminates every worker. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    for (const job of [...this.#queue]) {
      this.#fail(job, new AnnamalaiError('aborted', { detail: 'the classifier was closed' }));
    }
    const deadline = Date.now() + this.#options.closeTimeoutMs;
    while ([...this.#slots].some((s) => s.batch) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.allSettled([...this.#starting]);
    const slots = [...this.#slots];
    for (const slot of slots)
      this.#retire(slot, new AnnamalaiError('aborted', { detail: 'the classifier was closed' }));
    await Promise.all(slots.map((s) => s.worker.terminate()));
    // Also wait for this pool's crashed workers that are still ending.
    await Promise.all([...this.#spawned].map((s) => s.exited));
  }

  #adopt(slot: Slot): void {
    this.#slots.add(slot);
    this.#spawned.add(slot);
    void slot.exited.then(() => this.#spawned.delete(slot));
    slot.worker.on('message', (message: FromWorker) => this.#onMessage(slot, message));
    slot.worker.on('error', (error) => this.#onCrash(slot, `worker error: ${error.message}`));
    slot.worker.on('exit', (code) => this.#onCrash(slot, `worker exited with code ${code}`));
    this.#dispatch();
  }

  #onMessage(slot: Slot, message: FromWorker): void {
    if (message.type !== 'result' && message.type !== 'error') return;
    const batch = slot.batch;
    if (!batch || batch.id !== message.id) return;
    clearTimeout(batch.timer);
    slot.batch = undefined;
    if (message.type === 'result') {
      this.#failedRestarts = 0;
      batch.parts.forEach(({ job, index }, row) => {
        if (job.settled) return;
        job.results[index] = this.#row(message, row, job.normaliser !== undefined);
        if (--job.remaining === 0) {
          job.settled = true;
          job.cleanup();
          job.resolve(job.results as PoolRow[]);
        }
      });
    } else {
      const error = workerError(message.code, message.detail);
      for (const { job } of batch.parts) this.#fail(job, error);
    }
    this.#dispatch();
  }

  #row(message: FromWorker & { type: 'result' }, row: number, withBaseline: boolean): PoolRow {
    const w = this.#width;
    const probabilities = message.probabilities.slice(row * w, (row + 1) * w);
    const { embeddings, baseline } = message;
    const dims = this.#dims;
    return {
      probabilities,
      ...(embeddings && dims && { embedding: embeddings.slice(row * dims, (row + 1) * dims) }),
      ...(baseline && withBaseline && { baseline: baseline.slice(row * w, (row + 1) * w) }),
    };
  }

  #onCrash(slot: Slot, why: string): void {
    if (slot.dead) return;
    this.#options.logger?.error({ why }, 'inference worker crashed; replacing it');
    this.#retire(slot, new AnnamalaiError('inference.failed', { detail: why }));
    void slot.worker.terminate();
    this.#replace();
  }

  /** Removes a slot and fails the jobs of its in-flight batch. */
  #retire(slot: Slot, error: AnnamalaiError): void {
    slot.dead = true;
    this.#slots.delete(slot);
    const batch = slot.batch;
    slot.batch = undefined;
    if (batch) {
      clearTimeout(batch.timer);
      for (const { job } of batch.parts) this.#fail(job, error);
    }
  }

  #replace(): void {
    if (this.#closing || this.#broken) return;
    this.#restarts++;
    const starting = spawn(this.#options, this.#options.device).then(
      ({ slot }) => {
        this.#adopt(slot);
        if (this.#closing || this.#broken) {
          this.#retire(slot, new AnnamalaiError('aborted'));
          void slot.worker.terminate();
        }
      },
      (error: unknown) => {
        this.#failedRestarts++;
        this.#options.logger?.error({ err: error }, 'could not replace an inference worker');
        if (this.#failedRestarts < this.#options.maxRestarts) return this.#replace();
        this.#broken = new AnnamalaiError('inference.failed', {
          detail: 'inference workers keep failing to start',
          cause: error,
        });
        if (this.#slots.size === 0) for (const job of [...this.#queue]) this.#fail(job, this.#broken);
      },
    );
    this.#starting.add(starting);
    void starting.finally(() => this.#starting.delete(starting));
  }

  #fail(job: Job, error: AnnamalaiError): void {
    if (job.settled) return;
    job.settled = true;
    job.cleanup();
    const i = this.#queue.indexOf(job);
    if (i >= 0) {
      this.#queue.splice(i, 1);
      this.#queued -= job.segments.length - job.next;
    }
    job.reject(error);
  }

  /** The batch's rows' normalisers (centre then scale, NaN for rows without), or undefined when none has one. */
  #normalisers(parts: readonly { readonly job: Job }[]): Float64Array | undefined {
    const dims = this.#dims;
    if (!dims || !parts.some(({ job }) => job.normaliser)) return undefined;
    const out = new Float64Array(parts.length * 2 * dims).fill(Number.NaN);
    parts.forEach(({ job }, row) => {
      if (!job.normaliser) return;
      out.set(job.normaliser.centre, row * 2 * dims);
      out.set(job.normaliser.scale, row * 2 * dims + dims);
    });
    return out;
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (!slot.ready || slot.dead || slot.batch) continue;
      const parts: { job: Job; index: number }[] = [];
      while (parts.length < this.#options.maxBatch) {
        const job = this.#queue[0];
        if (!job) break;
        parts.push({ job, index: job.next++ });
        this.#queued--;
        if (job.next === job.segments.length) this.#queue.shift();
      }
      const input = new Float32Array(parts.length * this.#segmentSamples);
      parts.forEach(({ job, index }, row) => {
        input.set(job.segments[index] ?? new Float32Array(0), row * this.#segmentSamples);
      });
      const normalisers = this.#normalisers(parts);
      const id = this.#nextBatchId++;
      const timer = setTimeout(() => {
        this.#options.logger?.error({ batch: id }, 'inference batch timed out; terminating its worker');
        this.#onCrash(slot, `batch timed out after ${this.#options.batchTimeoutMs} ms`);
      }, this.#options.batchTimeoutMs);
      slot.batch = { id, parts, timer };
      const message: ToWorker = {
        type: 'run',
        id,
        input,
        batch: parts.length,
        ...(normalisers && { normalisers }),
      };
      slot.worker.postMessage(message, [
        input.buffer,
        ...(normalisers ? [normalisers.buffer as ArrayBuffer] : []),
      ]);
    }
  }
}

/** The coded error a worker reported: its detail travels alone, so the code is not repeated in the message. */
function workerError(code: ErrorCode, detail: string | undefined): AnnamalaiError {
  return new AnnamalaiError(code, detail === undefined ? {} : { detail });
}

/** Starts one worker and waits (bounded) for its sessions to be ready. */
function spawn(options: PoolOptions, device: DeviceSetting): Promise<{ slot: Slot; device: DeviceChoice }> {
  const { model } = options;
  const workerData: WorkerInit = {
    manifest: model.manifest,
    graphs: ensembleGraphs(model),
    device,
    intraOpNumThreads: options.threadsPerWorker,
  };
  disableOnnxTelemetry();
  const worker = new Worker(options.workerUrl ?? DEFAULT_WORKER_URL, { workerData });
  liveThreads.add(worker);
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  void exited.then(() => liveThreads.delete(worker));
  const slot: Slot = { worker, exited, ready: false, dead: false, batch: undefined };
  return new Promise((resolve, reject) => {
    const fail = (error: AnnamalaiError) => {
      cleanup();
      slot.dead = true;
      void worker.terminate();
      reject(error);
    };
    const timer = setTimeout(
      () =>
        fail(
          new AnnamalaiError('model.invalid', {
            detail: `worker not ready after ${options.startTimeoutMs} ms`,
          }),
        ),
      options.startTimeoutMs,
    );
    const onMessage = (message: FromWorker) => {
      if (message.type === 'ready') {
        cleanup();
        slot.ready = true;
        resolve({ slot, device: message.device });
      } else if (message.type === 'init-error') {
        fail(workerError(message.code, message.detail));
      }
    };
    const onError = (error: Error) =>
      fail(
        new AnnamalaiError('model.invalid', {
          detail: `worker failed to start: ${error.message}`,
          cause: error,
        }),
      );
    const onExit = (code: number) =>
      fail(new AnnamalaiError('model.invalid', { detail: `worker exited with code ${code} while starting` }));
    const cleanup = () => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
