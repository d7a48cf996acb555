import { availableParallelism } from 'node:os';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AnnamalaiError } from '../../src/core/errors.ts';
import type { EmotionClassifier } from '../../src/core/ports.ts';
import { createOnnxClassifier, defaultParallelism } from '../../src/inference/classifier.ts';
import { type LoadedModel, loadModel } from '../../src/inference/manifest.ts';
import { InferencePool, POOL_DEFAULTS, type PoolOptions } from '../../src/inference/pool.ts';
import {
  constant,
  cycle,
  expectedProbabilities,
  expectedSingleProbabilities,
  TINY_MODEL_DIR,
  TINY_SINGLE_MODEL_DIR,
} from './fixture-maths.ts';

// Mirrored in crashing-worker.ts (not imported: it must only run inside a worker).
const EXIT_SENTINEL = 123.25;
const THROW_SENTINEL = 456.5;
const HANG_SENTINEL = 789.75;
const CRASHING_WORKER = new URL('./crashing-worker.ts', import.meta.url);

/** A distinct, exactly summable segment per (call, index), so rows can be checked one by one. */
const segmentFor = (call: number, index: number) => cycle([(call + 1) / 64, -(index + 1) / 128]);

const expectRows = (
  rows: readonly Float32Array[],
  segments: readonly Float32Array[],
  probabilities: (x: Float32Array) => number[] = expectedProbabilities,
) => {
  expect(rows).toHaveLength(segments.length);
  rows.forEach((row, i) => {
    const expected = probabilities(segments[i] ?? new Float32Array(0));
    expected.forEach((p, j) => {
      expect(row[j]).toBeCloseTo(p, 6);
    });
  });
};

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

let model: LoadedModel;
const open: { close(): Promise<void> }[] = [];
beforeAll(async () => {
  model = await loadModel(TINY_MODEL_DIR);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});

async function startPool(options: Partial<PoolOptions> = {}): Promise<InferencePool> {
  const pool = await InferencePool.start({
    ...POOL_DEFAULTS,
    model,
    device: 'cpu',
    workers: 1,
    threadsPerWorker: 1,
    ...options,
  });
  open.push(pool);
  return pool;
}

describe('createOnnxClassifier', () => {
  let classifier: EmotionClassifier;

  it('20 concurrent classify calls of different sizes all get the right rows in the right order', async () => {
    classifier = await createOnnxClassifier({
      modelDir: TINY_MODEL_DIR,
      device: 'cpu',
      workers: 2,
      threadsPerWorker: 1,
    });
    open.push(classifier);
    expect(classifier.info.fixture).toBe(true);
    expect(classifier.info.device).toEqual({ kind: 'cpu', reason: 'INFERENCE_DEVICE=cpu' });
    const calls = Array.from({ length: 20 }, (_, call) =>
      Array.from({ length: (call * 7) % 13 }, (_, index) => segmentFor(call, index)),
    );
    const results = await Promise.all(calls.map((segments) => classifier.classify(segments)));
    results.forEach((rows, call) => {
      expectRows(rows, calls[call] ?? []);
    });
  });

  it('auto picks CPU here and says why', async () => {
    classifier = await createOnnxClassifier({
      modelDir: TINY_MODEL_DIR,
      device: 'auto',
      workers: 1,
      threadsPerWorker: 1,
    });
    open.push(classifier);
    expect(classifier.info.device.kind).toBe('cpu');
    expect(classifier.info.device.reason).toMatch(/INFERENCE_DEVICE=auto/);
    expectRows(await classifier.classify([constant(0.5)]), [constant(0.5)]);
  });

  it('cuda without the CUDA provider fails clearly with model.invalid', async () => {
    const { runtimeDiagnostics } = await import('../../src/inference/classifier.ts');
    if ((await runtimeDiagnostics()).cudaProvider.installed) return; // a CUDA host: nothing to prove here
    const attempt = createOnnxClassifier({
      modelDir: TINY_MODEL_DIR,
      device: 'cuda',
      workers: 1,
      threadsPerWorker: 1,
    });
    await expect(attempt).rejects.toThrow(
      /model.invalid: INFERENCE_DEVICE=cuda but onnxruntime-node's CUDA provider/,
    );
  });

  it('a start error from a worker carries its reason as detail and says its code once', async () => {
    const { runtimeDiagnostics } = await import('../../src/inference/classifier.ts');
    if ((await runtimeDiagnostics()).cudaProvider.installed) return; // a CUDA host: nothing to prove here
    const error = await createOnnxClassifier({
      modelDir: TINY_MODEL_DIR,
      device: 'cuda',
      workers: 1,
      threadsPerWorker: 1,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof AnnamalaiError))
      throw new Error(`expected an AnnamalaiError, got ${String(error)}`);
    expect(error.code).toBe('model.invalid');
    expect(error.detail).toMatch(
      /^INFERENCE_DEVICE=cuda but onnxruntime-node's CUDA provider is not installed/,
    );
    expect(error.message).toBe(`model.invalid: ${error.detail}`);
  });

  it('refuses more worker threads than cores', async () => {
    const cores = availableParallelism();
    await expect(
      createOnnxClassifier({ modelDir: TINY_MODEL_DIR, device: 'cpu', workers: cores, threadsPerWorker: 2 }),
    ).rejects.toThrow(RangeError);
  });

  it('default parallelism: 1 worker × 2 threads on 2 cores, never more threads than cores', () => {
    expect(defaultParallelism(2)).toEqual({ workers: 1, threadsPerWorker: 2 });
    expect(defaultParallelism(1)).toEqual({ workers: 1, threadsPerWorker: 1 });
    for (const cores of [3, 4, 6, 8, 12, 16, 64]) {
      const { workers, threadsPerWorker } = defaultParallelism(cores);
      expect(workers * threadsPerWorker).toBeLessThanOrEqual(cores);
    }
  });
});

describe('InferencePool', () => {
  it('batches segments across concurrent calls and keeps each call’s order', async () => {
    const pool = await startPool({ maxBatch: 3 });
    const a = [segmentFor(0, 0), segmentFor(0, 1)];
    const b = [segmentFor(1, 0), segmentFor(1, 1), segmentFor(1, 2), segmentFor(1, 3)];
    const [ra, rb] = await Promise.all([pool.run(a), pool.run(b)]);
    expectRows(ra, a);
    expectRows(rb, b);
  });

  it('rejects with inference.overloaded when the queue is full, and serves what it admitted', async () => {
    const pool = await startPool({ maxBatch: 1, maxQueue: 2 });
    const s = constant(0.5);
    const admitted = [pool.run([s]), pool.run([s]), pool.run([s])]; // 1 running, 2 queued
    expect(pool.stats().queuedSegments).toBe(2);
    expect(await codeOf(pool.run([s]))).toBe('inference.overloaded');
    for (const rows of await Promise.all(admitted)) expectRows(rows, [s]);
  });

  it('admits a call larger than the queue limit when the queue is empty', async () => {
    const pool = await startPool({ maxBatch: 2, maxQueue: 2 });
    const segments = Array.from({ length: 5 }, (_, i) => segmentFor(3, i));
    expectRows(await pool.run(segments), segments);
  });

  it('an AbortSignal rejects with aborted: before, while queued and while running; others still succeed', async () => {
    const pool = await startPool({ maxBatch: 1 });
    const s = constant(0.25);
    expect(await codeOf(pool.run([s], AbortSignal.abort()))).toBe('aborted');

    const running = new AbortController();
    const queued = new AbortController();
    const first = pool.run([s], running.signal);
    const second = pool.run([s, s], queued.signal);
    const third = pool.run([s]);
    expect(pool.stats().queuedSegments).toBe(3);
    queued.abort();
    expect(pool.stats().queuedSegments).toBe(1); // its two segments left the queue at once
    running.abort();
    expect(await codeOf(first)).toBe('aborted');
    expect(await codeOf(second)).toBe('aborted');
    expectRows(await third, [s]);
  });

  it('a worker that exits mid-batch fails its jobs with inference.failed and is replaced', async () => {
    const pool = await startPool({ maxBatch: 1, workerUrl: CRASHING_WORKER });
    const s = constant(0.5);
    const crash = pool.run([constant(EXIT_SENTINEL)]);
    const queued = pool.run([s]);
    expect(await codeOf(crash)).toBe('inference.failed');
    expectRows(await queued, [s]); // served by the replacement
    expect(pool.stats()).toMatchObject({ workers: 1, restarts: 1 });
  });

  it('a worker that throws uncaught is replaced too', async () => {
    const pool = await startPool({ maxBatch: 1, workerUrl: CRASHING_WORKER });
    expect(await codeOf(pool.run([constant(THROW_SENTINEL)]))).toBe('inference.failed');
    expectRows(await pool.run([constant(0.5)]), [constant(0.5)]);
    expect(pool.stats().restarts).toBe(1);
  });

  it('a hung batch hits batchTimeoutMs: its job fails with inference.failed and the worker is replaced', async () => {
    const pool = await startPool({ maxBatch: 1, batchTimeoutMs: 300, workerUrl: CRASHING_WORKER });
    const hung = pool.run([constant(HANG_SENTINEL)]);
    const queued = pool.run([constant(0.5)]);
    expect(await codeOf(hung)).toBe('inference.failed');
    expectRows(await queued, [constant(0.5)]);
    expect(pool.stats().restarts).toBe(1);
  });

  it('close() rejects queued work with aborted, ends every worker thread, and refuses new work', async () => {
    const pool = await startPool({ workers: 2, maxBatch: 1 });
    const s = constant(0.5);
    const outcomes = Promise.all([pool.run([s]), pool.run([s]), pool.run([s]), pool.run([s])].map(codeOf));
    await pool.close();
    const codes = await outcomes;
    expect(codes.filter((c) => c === 'resolved')).toHaveLength(2); // the two in flight finish
    expect(codes.filter((c) => c === 'aborted')).toHaveLength(2);
    expect(pool.stats().workers).toBe(0);
    expect(pool.stats().liveThreads).toBe(0); // no inference thread of any pool is left in this process
    expect(await codeOf(pool.run([s]))).toBe('aborted');
    await pool.close(); // idempotent
  });

  it('serves a single-model folder (no meta model): rows are the masked softmax of its base logits, across batches', async () => {
    const single = await loadModel(TINY_SINGLE_MODEL_DIR);
    const pool = await startPool({ model: single, workers: 2, maxBatch: 3 });
    const calls = [0, 1, 2].map((call) => Array.from({ length: 4 }, (_, index) => segmentFor(call, index)));
    const results = await Promise.all(calls.map((segments) => pool.run(segments)));
    results.forEach((rows, call) => {
      expectRows(rows, calls[call] ?? [], expectedSingleProbabilities);
    });
  });

  it('rejects segments of the wrong length with inference.failed', async () => {
    const pool = await startPool();
    expect(await codeOf(pool.run([new Float32Array(100)]))).toBe('inference.failed');
    expect(await pool.run([])).toEqual([]);
  });
});
