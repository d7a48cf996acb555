/**
 * The only module of the project that imports onnxruntime-node: sessions, device choice,
 * one ensemble pass, the voice-baseline head, runtime diagnostics. Loaded inside worker threads (and by parity checks).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { AnnamalaiError, toAnnamalaiError } from '../core/errors.ts';
import { concatBaseLogits, maskedSoftmax, trainedMask } from './ensemble.ts';
import type { Combination, EnsembleGraphs, ModelManifest } from './manifest.ts';
import { disableOnnxTelemetry } from './telemetry.ts';

// Before any session of this thread creates onnxruntime's environment (see telemetry.ts).
disableOnnxTelemetry();

/** INFERENCE_DEVICE: auto picks CUDA when its provider is installed and a session creates on it. */
export type DeviceSetting = 'auto' | 'cpu' | 'cuda';
export type DeviceKind = 'cpu' | 'cuda';
export interface DeviceChoice {
  readonly kind: DeviceKind;
  readonly reason: string;
}

// npm ci never runs onnxruntime-node's install script (allowScripts in package.json): it is run by hand.
const CUDA_INSTALL_HINT =
  'on a CUDA 12 host, install it with ONNXRUNTIME_NODE_INSTALL=cuda12 npx node node_modules/onnxruntime-node/script/install.js';

/** Folder holding onnxruntime-node's native binding, where its install script puts the CUDA provider. */
function bindingFolder(): string {
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
  return join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/** Path of onnxruntime's CUDA execution provider library when it is installed, else undefined. */
export function cudaProviderPath(): string | undefined {
  const file =
    process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  const path = join(bindingFolder(), file);
  return existsSync(path) ? path : undefined;
}

export interface RuntimeDiagnostics {
  readonly onnxruntimeVersion: string;
  /** What this onnxruntime-node build knows of; `bundled: false` ones need extra binaries. */
  readonly backends: readonly { readonly name: string; readonly bundled: boolean }[];
  readonly cudaProvider: { readonly installed: boolean; readonly path?: string };
}

export function runtimeDiagnostics(): RuntimeDiagnostics {
  const path = cudaProviderPath();
  return {
    onnxruntimeVersion: ort.env.versions.node ?? ort.env.versions.common,
    backends: ort.listSupportedBackends().map(({ name, bundled }) => ({ name, bundled })),
    cudaProvider: path ? { installed: true, path } : { installed: false },
  };
}

export interface EnsembleOptions {
  readonly device: DeviceSetting;
  readonly intraOpNumThreads: number;
}

export interface EnsembleOutput {
  /** Per base model, [batch, labels] row-major. */
  readonly baseLogits: readonly Float32Array[];
  /**
   * [batch, labels] row-major, the logits `probabilities` are the masked softmax of: the meta
   * model's when stacked, the single base model's (the same array as baseLogits[0]) otherwise.
   */
  readonly logits: Float32Array;
  /** One row per segment, labels order, softmax over trained labels, untrained = 0. */
  readonly probabilities: Float32Array[];
  /** [batch, voice_baseline.dims] row-major: the main graph's embedding; only when the model has a baseline head. */
  readonly embeddings?: Float32Array;
}

function sessionOptions(kind: DeviceKind, threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: kind === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // A worker's sessions (base models, then any meta model) run back to back on the same cores:
    // threads that spin after their session's work would steal the next session's cores.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/** onnxruntime-node wants an ArrayBuffer-backed view; graphs arrive in shared memory. */
function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.buffer instanceof ArrayBuffer ? bytes : new Uint8Array(bytes);
}

function checkNames(
  what: string,
  session: ort.InferenceSession,
  input: string,
  outputs: readonly string[],
): void {
  if (!session.inputNames.includes(input)) {
    throw new AnnamalaiError('model.invalid', {
      detail: `${what} has no input "${input}" (inputs: ${session.inputNames.join(', ')})`,
    });
  }
  for (const output of outputs) {
    if (!session.outputNames.includes(output)) {
      throw new AnnamalaiError('model.invalid', {
        detail: `${what} has no output "${output}" (outputs: ${session.outputNames.join(', ')})`,
      });
    }
  }
}

export class OnnxEnsemble {
  readonly device: DeviceChoice;
  readonly #manifest: ModelManifest;
  readonly #base: readonly ort.InferenceSession[];
  readonly #combination: Combination<ort.InferenceSession>;
  readonly #mask: readonly boolean[];
  /** The voice-baseline head, when the manifest declares one. */
  readonly #head: ort.InferenceSession | undefined;

  private constructor(
    manifest: ModelManifest,
    base: ort.InferenceSession[],
    combination: Combination<ort.InferenceSession>,
    head: ort.InferenceSession | undefined,
    device: DeviceChoice,
  ) {
    this.device = device;
    this.#manifest = manifest;
    this.#base = base;
    this.#combination = combination;
    this.#head = head;
    this.#mask = trainedMask(manifest.labels, manifest.trained_labels);
  }

  static async create(
    manifest: ModelManifest,
    graphs: EnsembleGraphs,
    options: EnsembleOptions,
  ): Promise<OnnxEnsemble> {
    if (graphs.base.length !== manifest.base_models.length) {
      throw new AnnamalaiError('model.invalid', {
        detail: 'graph count does not match manifest base_models',
      });
    }
    const { combination } = graphs;
    if ((combination.kind === 'stacked') !== (manifest.meta_model !== undefined)) {
      throw new AnnamalaiError('model.invalid', {
        detail: `graphs for a ${combination.kind} model, but the manifest ${manifest.meta_model ? 'has' : 'has no'} meta_model`,
      });
    }
    const build = async (kind: DeviceKind, reason: string): Promise<OnnxEnsemble> => {
      const created: ort.InferenceSession[] = [];
      const open = async (what: string, bytes: Uint8Array) => {
        try {
          const session = await ort.InferenceSession.create(
            ownBytes(bytes),
            sessionOptions(kind, options.intraOpNumThreads),
          );
          created.push(session);
          return session;
        } catch (cause) {
          throw new AnnamalaiError('model.invalid', {
            detail: `${what} failed to load on ${kind}: ${cause instanceof Error ? cause.message : String(cause)}`,
            cause,
          });
        }
      };
      try {
        const base: ort.InferenceSession[] = [];
        for (const [i, spec] of manifest.base_models.entries()) {
          const session = await open(spec.file, graphs.base[i] ?? new Uint8Array());
          checkNames(spec.file, session, spec.input, [spec.logits_output, spec.embedding_output]);
          base.push(session);
        }
        let sessions: Combination<ort.InferenceSession> = { kind: 'single' };
        if (combination.kind === 'stacked') {
          const { meta } = combination;
          const session = await open(meta.file, combination.graph);
          checkNames(meta.file, session, meta.input, [meta.output]);
          sessions = { kind: 'stacked', meta, graph: session };
        }
        let head: ort.InferenceSession | undefined;
        const vb = manifest.voice_baseline;
        if (vb) {
          if (!graphs.baselineHead)
            throw new AnnamalaiError('model.invalid', { detail: `no graph bytes for ${vb.file}` });
          head = await open(vb.file, graphs.baselineHead);
          checkNames(vb.file, head, vb.input, [vb.logits_output]);
        }
        return new OnnxEnsemble(manifest, base, sessions, head, { kind, reason });
      } catch (error) {
        await Promise.allSettled(created.map((s) => s.release()));
        throw error;
      }
    };

    if (options.device === 'cpu') return build('cpu', 'INFERENCE_DEVICE=cpu');
    const cuda = cudaProviderPath();
    if (options.device === 'cuda') {
      if (!cuda) {
        throw new AnnamalaiError('model.invalid', {
          detail: `INFERENCE_DEVICE=cuda but onnxruntime-node's CUDA provider is not installed: ${CUDA_INSTALL_HINT}`,
        });
      }
      return build('cuda', 'INFERENCE_DEVICE=cuda');
    }
    if (!cuda) {
      return build(
        'cpu',
        `INFERENCE_DEVICE=auto: onnxruntime-node's CUDA provider is not installed (${CUDA_INSTALL_HINT})`,
      );
    }
    try {
      return await build(
        'cuda',
        'INFERENCE_DEVICE=auto: CUDA provider installed and the sessions created on it',
      );
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      return build('cpu', `INFERENCE_DEVICE=auto: CUDA provider installed but unusable (${why}); using CPU`);
    }
  }

  /**
   * One pass (every base model, then the combination) over `batch` segments laid out row-major in
   * `input` ([batch, segment_samples]).
   */
  async run(input: Float32Array, batch: number): Promise<EnsembleOutput> {
    const m = this.#manifest;
    const width = m.labels.length;
    if (batch < 1 || input.length !== batch * m.segment_samples) {
      throw new AnnamalaiError('inference.failed', {
        detail: `input has ${input.length} samples, expected ${batch}×${m.segment_samples}`,
      });
    }
    try {
      const audio = new ort.Tensor('float32', input, [batch, m.segment_samples]);
      const baseLogits: Float32Array[] = [];
      let embeddings: Float32Array | undefined;
      const vb = m.voice_baseline;
      for (const [i, spec] of m.base_models.entries()) {
        const session = this.#base[i];
        if (!session) throw new Error(`no session for base model ${spec.name}`);
        // The baseline's model is a single one (manifest.ts): its one base graph gives the embedding.
        const outputs = vb ? [spec.logits_output, spec.embedding_output] : [spec.logits_output];
        const out = await session.run({ [spec.input]: audio }, outputs);
        baseLogits.push(
          logitsOf(out[spec.logits_output], `${spec.name}.${spec.logits_output}`, batch, width),
        );
        if (vb)
          embeddings = logitsOf(
            out[spec.embedding_output],
            `${spec.name}.${spec.embedding_output} (voice_baseline.dims ${vb.dims})`,
            batch,
            vb.dims,
          );
      }
      const logits = await this.#combine(baseLogits, batch, width);
      const probabilities = maskedSoftmax(logits, batch, this.#mask);
      return { baseLogits, logits, probabilities, ...(embeddings && { embeddings }) };
    } catch (error) {
      throw toAnnamalaiError(error, 'inference.failed');
    }
  }

  /**
   * The voice-baseline head on `rows` normalised embeddings z ([rows, dims] row-major): one row of
   * probabilities each, through the same masked softmax as the main head's.
   */
  async runHead(z: Float32Array, rows: number): Promise<Float32Array[]> {
    const vb = this.#manifest.voice_baseline;
    const head = this.#head;
    if (!vb || !head)
      throw new AnnamalaiError('inference.failed', { detail: 'the model has no baseline head' });
    if (rows < 1 || z.length !== rows * vb.dims) {
      throw new AnnamalaiError('inference.failed', {
        detail: `baseline input has ${z.length} values, expected ${rows}×${vb.dims}`,
      });
    }
    try {
      const input = new ort.Tensor('float32', z, [rows, vb.dims]);
      const out = await head.run({ [vb.input]: input }, [vb.logits_output]);
      const width = this.#manifest.labels.length;
      const logits = logitsOf(out[vb.logits_output], `${vb.file}.${vb.logits_output}`, rows, width);
      return maskedSoftmax(logits, rows, this.#mask);
    } catch (error) {
      throw toAnnamalaiError(error, 'inference.failed');
    }
  }

  async #combine(baseLogits: readonly Float32Array[], batch: number, width: number): Promise<Float32Array> {
    const c = this.#combination;
    if (c.kind === 'single') {
      const [logits] = baseLogits;
      if (!logits || baseLogits.length !== 1) throw new Error('a single model needs exactly one base model');
      return logits;
    }
    const metaInput = new ort.Tensor('float32', concatBaseLogits(baseLogits, batch, width), [
      batch,
      width * baseLogits.length,
    ]);
    const out = await c.graph.run({ [c.meta.input]: metaInput }, [c.meta.output]);
    return logitsOf(out[c.meta.output], `meta.${c.meta.output}`, batch, width);
  }

  async release(): Promise<void> {
    const meta = this.#combination.kind === 'stacked' ? [this.#combination.graph] : [];
    const head = this.#head ? [this.#head] : [];
    await Promise.allSettled([...this.#base, ...meta, ...head].map((s) => s.release()));
  }
}

function logitsOf(
  value: ort.OnnxValue | undefined,
  what: string,
  batch: number,
  width: number,
): Float32Array {
  if (value?.type !== 'float32' || !(value.data instanceof Float32Array)) {
    throw new AnnamalaiError('inference.failed', { detail: `${what} is missing or not float32` });
  }
  const [rows, cols] = value.dims;
  if (value.dims.length !== 2 || rows !== batch || cols !== width) {
    throw new AnnamalaiError('inference.failed', {
      detail: `${what} has shape [${value.dims.join(', ')}], expected [${batch}, ${width}]`,
    });
  }
  return value.data;
}
