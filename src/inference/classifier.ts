/**
 * The EmotionClassifier port on onnxruntime-node: verified model folder → worker pool.
 * The main thread never loads onnxruntime for classification; diagnostics import it lazily.
 */
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { AnnamalaiError } from '../core/errors.ts';
import type { EmotionClassifier, ModelInfo, SpeakerRow, VoiceBaselineModel } from '../core/ports.ts';
import {
  type CombinationKind,
  loadModel,
  type ModelManifest,
  readManifest,
  type VerifiedFile,
} from './manifest.ts';
import type { DeviceSetting, RuntimeDiagnostics } from './onnx.ts';
import type { ParityReport } from './parity.ts';
import { InferencePool, POOL_DEFAULTS } from './pool.ts';

export interface OnnxClassifierOptions {
  readonly modelDir: string;
  readonly device: DeviceSetting;
  /** Default from defaultParallelism(). workers × threadsPerWorker must not exceed the cores. */
  readonly workers?: number;
  readonly threadsPerWorker?: number;
  /** Segments allowed to wait for a worker; beyond it classify rejects with inference.overloaded. Default 256. */
  readonly maxQueue?: number;
  /** Segments per onnxruntime run. Default 8. */
  readonly maxBatch?: number;
  /** A batch running longer than this is treated as a hung worker. Default 60 s. */
  readonly batchTimeoutMs?: number;
  readonly logger?: Logger;
}

/**
 * One worker using every core up to 4 cores (2 cores → 1 × 2), then workers of 4 threads:
 * a single request is served fastest by intra-op threads, concurrent requests by more workers.
 */
export function defaultParallelism(cores: number = availableParallelism()): {
  workers: number;
  threadsPerWorker: number;
} {
  const c = Math.max(1, Math.floor(cores));
  if (c <= 4) return { workers: 1, threadsPerWorker: c };
  const workers = Math.floor(c / 4);
  return { workers, threadsPerWorker: Math.floor(c / workers) };
}

/** The model run in this process, so its baseline head, when it has one, runs here too. */
export type OnnxClassifier = EmotionClassifier & { readonly voiceBaseline?: VoiceBaselineModel };

export async function createOnnxClassifier(options: OnnxClassifierOptions): Promise<OnnxClassifier> {
  const cores = availableParallelism();
  const defaults = defaultParallelism(cores);
  const workers = options.workers ?? defaults.workers;
  const threadsPerWorker =
    options.threadsPerWorker ??
    (options.workers ? Math.max(1, Math.floor(cores / workers)) : defaults.threadsPerWorker);
  if (
    !Number.isInteger(workers) ||
    workers < 1 ||
    !Number.isInteger(threadsPerWorker) ||
    threadsPerWorker < 1
  ) {
    throw new RangeError('inference workers and threads per worker must be positive integers');
  }
  if (workers * threadsPerWorker > cores) {
    throw new RangeError(
      `inference workers (${workers}) × threads per worker (${threadsPerWorker}) exceeds the ${cores} available cores`,
    );
  }
  const model = await loadModel(options.modelDir);
  const pool = await InferencePool.start({
    ...POOL_DEFAULTS,
    model,
    device: options.device,
    workers,
    threadsPerWorker,
    ...(options.maxQueue !== undefined && { maxQueue: options.maxQueue }),
    ...(options.maxBatch !== undefined && { maxBatch: options.maxBatch }),
    ...(options.batchTimeoutMs !== undefined && { batchTimeoutMs: options.batchTimeoutMs }),
    ...(options.logger && { logger: options.logger }),
  });
  const { manifest } = model;
  // info, not warn: every front end says so in its own words (CLI header, bot replies' notes).
  if (manifest.fixture)
    options.logger?.info({ model: manifest.id }, 'the loaded model is a TEST FIXTURE, not an emotion model');
  const info: ModelInfo = {
    id: manifest.id,
    version: manifest.version,
    name: manifest.name,
    labels: manifest.labels,
    trainedLabels: manifest.trained_labels,
    fixture: manifest.fixture,
    device: pool.device,
  };
  const spec = model.voiceBaseline?.spec;
  const voiceBaseline: VoiceBaselineModel | undefined = spec && {
    runs: 'here',
    spec,
    classify: async (segments, normaliser, signal) =>
      (await pool.runRows(segments, normaliser, signal)).map((row, i): SpeakerRow => {
        if (!row.embedding)
          throw new AnnamalaiError('inference.failed', { detail: `no embedding for segment ${i}` });
        return { ...row, embedding: row.embedding };
      }),
  };
  return {
    info,
    classify: (segments, signal) => pool.run(segments, signal),
    ...(voiceBaseline && { voiceBaseline }),
    close: () => pool.close(),
  };
}

/** A model's identity from its manifest alone (no hashing, no onnxruntime): for diagnostics and logs. */
export interface ModelIdentity {
  readonly id: string;
  readonly version: string;
  readonly name: string;
  readonly fixture: boolean;
  readonly labels: readonly string[];
  readonly trainedLabels: readonly string[];
  readonly baseModels: readonly { readonly name: string; readonly quantized: boolean }[];
  /** stacked: a meta model over the base models' logits; single: one base model, no meta model. */
  readonly combination: CombinationKind;
  /** The manifest's voice_baseline (issue 21), or null: then no baseline is ever built or used. */
  readonly voiceBaseline: ModelManifest['voice_baseline'] | null;
  readonly metrics: Readonly<Record<string, unknown>>;
  readonly provenance: Readonly<Record<string, unknown>>;
  readonly licence: ModelManifest['licence'];
}

export async function loadModelInfo(modelDir: string): Promise<ModelIdentity> {
  const m = await readManifest(modelDir);
  return {
    id: m.id,
    version: m.version,
    name: m.name,
    fixture: m.fixture,
    labels: m.labels,
    trainedLabels: m.trained_labels,
    baseModels: m.base_models.map(({ name, quantized }) => ({ name, quantized })),
    combination: m.meta_model ? 'stacked' : 'single',
    voiceBaseline: m.voice_baseline ?? null,
    metrics: m.metrics,
    provenance: m.provenance,
    licence: m.licence,
  };
}

export interface ModelVerification {
  readonly identity: ModelIdentity;
  readonly files: readonly VerifiedFile[];
  /** Undefined when the folder has no parity.json or parity was not asked for. */
  readonly parity: ParityReport | undefined;
}

/**
 * Full check of a model folder: manifest schema, size and sha256 of every file, and (by default)
 * parity.json reproduced by onnxruntime-node in this thread. Throws model.invalid on the first
 * bad file; a parity mismatch is reported in `parity.passed`, not thrown.
 */
export async function verifyModelFolder(
  modelDir: string,
  options: { parity?: boolean; device?: DeviceSetting } = {},
): Promise<ModelVerification> {
  const model = await loadModel(modelDir);
  const identity = await loadModelInfo(modelDir);
  let parity: ParityReport | undefined;
  if (options.parity ?? true) {
    const { readParitySpec, checkParity } = await import('./parity.ts');
    const spec = await readParitySpec(modelDir);
    if (spec) parity = await checkParity(model, spec, { device: options.device ?? 'cpu' });
  }
  return { identity, files: model.files, parity };
}

/** onnxruntime version and providers; loads onnxruntime-node into this thread on first call. */
export async function runtimeDiagnostics(): Promise<RuntimeDiagnostics> {
  return (await import('./onnx.ts')).runtimeDiagnostics();
}
