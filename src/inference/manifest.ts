/**
 * The model folder contract (shared with training/): manifest.json validated by a zod schema,
 * and every listed file checked for size and sha256 before anything is loaded.
 * A model is either stacked (base models, then a meta model over their concatenated logits) or a
 * single base model (no meta_model); see Combination.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { SAMPLE_RATE, SEGMENT_SAMPLES } from '../core/audio.ts';
import type { VoiceBaselineSpec } from '../core/baseline.ts';
import { AnnamalaiError } from '../core/errors.ts';

export const MANIFEST_FORMAT = 'annamalai-model/1';
export const MANIFEST_FILE = 'manifest.json';

/** A plain file name inside the model folder: no directories, no "..", no hidden files. */
const fileName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a plain file name inside the model folder');
const nonEmpty = z.string().min(1);

const baseModelSchema = z.object({
  name: nonEmpty,
  file: fileName,
  input: nonEmpty,
  logits_output: nonEmpty,
  embedding_output: nonEmpty,
  quantized: z.boolean(),
});

/** The voice-baseline head (issue 21; the contract with training/ is in docs/voice-baseline.md). */
const voiceBaselineSchema = z.object({
  file: fileName,
  input: nonEmpty,
  logits_output: nonEmpty,
  stats_file: fileName,
  dims: z.number().int().positive(),
  normalise: z.enum(['mean', 'mean_and_scale']),
  shrinkage_k: z.number().finite().nonnegative(),
  min_recordings: z.number().int().positive(),
  evidence: nonEmpty,
});

const fileEntrySchema = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
  bytes: z.number().int().nonnegative(),
});

export const manifestSchema = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    id: nonEmpty,
    version: nonEmpty,
    name: nonEmpty,
    fixture: z.boolean(),
    sample_rate: z.literal(SAMPLE_RATE),
    segment_samples: z.literal(SEGMENT_SAMPLES),
    labels: z.array(nonEmpty).min(2),
    trained_labels: z.array(nonEmpty).min(1),
    base_models: z.array(baseModelSchema).min(1),
    /** Absent: exactly one base model, whose logits are the model's. */
    meta_model: z.object({ file: fileName, input: nonEmpty, output: nonEmpty }).optional(),
    /** Absent: no voice baseline; the runtime then never builds or uses one. */
    voice_baseline: voiceBaselineSchema.optional(),
    files: z.record(z.string(), fileEntrySchema),
    metrics: z.record(z.string(), z.unknown()),
    provenance: z.record(z.string(), z.unknown()),
    licence: z.object({ weights: nonEmpty, data: nonEmpty, use: nonEmpty }).loose(),
  })
  .superRefine((m, ctx) => {
    const issue = (message: string, path: (string | number)[]) =>
      ctx.addIssue({ code: 'custom', message, path });
    const duplicates = (values: readonly string[]) => values.filter((v, i) => values.indexOf(v) !== i);
    for (const d of duplicates(m.labels)) issue(`duplicate label "${d}"`, ['labels']);
    for (const d of duplicates(m.trained_labels)) issue(`duplicate label "${d}"`, ['trained_labels']);
    for (const d of duplicates(m.base_models.map((b) => b.name)))
      issue(`duplicate name "${d}"`, ['base_models']);
    for (const file of Object.keys(m.files)) {
      if (!fileName.safeParse(file).success)
        issue(`"${file}" must be a plain file name inside the model folder`, ['files']);
    }
    m.trained_labels.forEach((label, i) => {
      if (!m.labels.includes(label)) issue(`"${label}" is not one of labels`, ['trained_labels', i]);
    });
    m.base_models.forEach((b, i) => {
      if (!(b.file in m.files)) issue(`"${b.file}" has no entry in files`, ['base_models', i, 'file']);
    });
    const vb = m.voice_baseline;
    if (vb) {
      for (const key of ['file', 'stats_file'] as const) {
        if (!(vb[key] in m.files)) issue(`"${vb[key]}" has no entry in files`, ['voice_baseline', key]);
      }
      // The contract normalises "the main graph's embedding": only a single model has exactly one.
      if (m.meta_model || m.base_models.length !== 1)
        issue('needs a single base model (no meta_model): its embedding is what is normalised', [
          'voice_baseline',
        ]);
    }
    if (m.meta_model) {
      if (!(m.meta_model.file in m.files))
        issue(`"${m.meta_model.file}" has no entry in files`, ['meta_model', 'file']);
    } else if (m.base_models.length !== 1) {
      issue(`without meta_model, exactly one base model is needed (found ${m.base_models.length})`, [
        'base_models',
      ]);
    }
  });

export type ModelManifest = z.infer<typeof manifestSchema>;
export type BaseModelSpec = ModelManifest['base_models'][number];
export type MetaModelSpec = NonNullable<ModelManifest['meta_model']>;
export type VoiceBaselineManifest = NonNullable<ModelManifest['voice_baseline']>;

/**
 * How the base models' logits become the logits whose masked softmax is the output:
 * - stacked: the meta model runs on the base logits concatenated in base_models order;
 * - single: the one base model's logits are used as they are.
 * `Graph` is the meta model at each stage: verified bytes in the main thread and in worker
 * messages, an onnxruntime session inside the worker.
 */
export type Combination<Graph> =
  | { readonly kind: 'stacked'; readonly meta: MetaModelSpec; readonly graph: Graph }
  | { readonly kind: 'single' };
export type CombinationKind = Combination<unknown>['kind'];

/** Reads and validates manifest.json only (no file hashing): for identity and diagnostics. */
export async function readManifest(modelDir: string): Promise<ModelManifest> {
  const path = join(modelDir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const detail =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? `no ${MANIFEST_FILE} in ${modelDir}`
        : `cannot read ${path}: ${cause instanceof Error ? cause.message : String(cause)}`;
    throw new AnnamalaiError('model.invalid', { detail, cause });
  }
  return parseManifest(text, path);
}

export function parseManifest(text: string, source = MANIFEST_FILE): ModelManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new AnnamalaiError('model.invalid', { detail: `${source} is not valid JSON`, cause });
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new AnnamalaiError('model.invalid', {
      detail: `${source} is invalid: ${problems}`,
      cause: parsed.error,
    });
  }
  return parsed.data;
}

export interface VerifiedFile {
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** Reads one listed file and checks its size and sha256; the bytes returned are the ones verified. */
export async function readVerifiedFile(
  modelDir: string,
  manifest: ModelManifest,
  file: string,
): Promise<Buffer> {
  const expected = manifest.files[file];
  if (!expected)
    throw new AnnamalaiError('model.invalid', { detail: `${file} is not listed in manifest files` });
  const path = join(modelDir, file);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (cause) {
    throw new AnnamalaiError('model.invalid', {
      detail: `${file} is listed in the manifest but missing`,
      cause,
    });
  }
  if (size !== expected.bytes) {
    throw new AnnamalaiError('model.invalid', {
      detail: `${file} has ${size} bytes, manifest says ${expected.bytes}`,
    });
  }
  const bytes = await readFile(path);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== expected.sha256) {
    throw new AnnamalaiError('model.invalid', {
      detail: `${file} fails its sha256 check (got ${sha256}, manifest says ${expected.sha256})`,
    });
  }
  return bytes;
}

/** Checks every file the manifest lists (size, then sha256). Throws model.invalid naming the first bad file. */
export async function verifyModelFiles(modelDir: string, manifest: ModelManifest): Promise<VerifiedFile[]> {
  const verified: VerifiedFile[] = [];
  for (const [file, entry] of Object.entries(manifest.files)) {
    await readVerifiedFile(modelDir, manifest, file);
    verified.push({ file, bytes: entry.bytes, sha256: entry.sha256 });
  }
  return verified;
}

/** An ONNX graph's verified bytes, in shared memory so every worker reads the same copy. */
export interface GraphBytes {
  readonly file: string;
  readonly bytes: Uint8Array<SharedArrayBuffer>;
}

/** A model's voice-baseline head: its graph and the numbers the normalisation needs. */
export interface VoiceBaselineHead {
  readonly spec: VoiceBaselineSpec;
  readonly graph: GraphBytes;
}

export interface LoadedModel {
  readonly dir: string;
  readonly manifest: ModelManifest;
  readonly files: readonly VerifiedFile[];
  /** In base_models order. */
  readonly base: readonly GraphBytes[];
  readonly combination: Combination<GraphBytes>;
  /** Present when the manifest declares voice_baseline. */
  readonly voiceBaseline?: VoiceBaselineHead;
}

/** What an OnnxEnsemble is created from: the graphs' bytes, as loaded (not copied). */
export interface EnsembleGraphs {
  /** In manifest base_models order. */
  readonly base: readonly Uint8Array[];
  readonly combination: Combination<Uint8Array>;
  /** The voice-baseline head, when the manifest declares one. */
  readonly baselineHead?: Uint8Array;
}

export function ensembleGraphs(model: LoadedModel): EnsembleGraphs {
  const c = model.combination;
  return {
    base: model.base.map((g) => g.bytes),
    combination: c.kind === 'stacked' ? { kind: 'stacked', meta: c.meta, graph: c.graph.bytes } : c,
    ...(model.voiceBaseline && { baselineHead: model.voiceBaseline.graph.bytes }),
  };
}

/**
 * The baseline stats file: little-endian float32, global_mean[dims] then global_std[dims]. Every value must
 * be finite and every std positive (z divides by it).
 */
export function parseBaselineStats(bytes: Uint8Array, vb: VoiceBaselineManifest): VoiceBaselineSpec {
  const { dims } = vb;
  if (bytes.byteLength !== 8 * dims) {
    throw new AnnamalaiError('model.invalid', {
      detail: `${vb.stats_file} has ${bytes.byteLength} bytes, expected ${8 * dims} (mean and std of ${dims} dims as float32)`,
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = Array.from({ length: 2 * dims }, (_, i) => view.getFloat32(4 * i, true));
  const globalMean = values.slice(0, dims);
  const globalStd = values.slice(dims);
  if (!values.every(Number.isFinite) || !globalStd.every((s) => s > 0)) {
    throw new AnnamalaiError('model.invalid', {
      detail: `${vb.stats_file} must hold finite means and positive standard deviations`,
    });
  }
  return {
    dims,
    normalise: vb.normalise,
    shrinkageK: vb.shrinkage_k,
    minRecordings: vb.min_recordings,
    globalMean,
    globalStd,
  };
}

function toShared(file: string, bytes: Buffer): GraphBytes {
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  shared.set(bytes);
  return { file, bytes: shared };
}

/** Validates the manifest, verifies every listed file and keeps the graphs' verified bytes (read once). */
export async function loadModel(modelDir: string): Promise<LoadedModel> {
  const manifest = await readManifest(modelDir);
  const meta = manifest.meta_model;
  const vb = manifest.voice_baseline;
  const graphFiles = new Set(manifest.base_models.map((b) => b.file));
  if (meta) graphFiles.add(meta.file);
  if (vb) graphFiles.add(vb.file);
  const graphs = new Map<string, GraphBytes>();
  const files: VerifiedFile[] = [];
  let spec: VoiceBaselineSpec | undefined;
  for (const [file, entry] of Object.entries(manifest.files)) {
    const bytes = await readVerifiedFile(modelDir, manifest, file);
    if (graphFiles.has(file)) graphs.set(file, toShared(file, bytes));
    if (vb && file === vb.stats_file) spec = parseBaselineStats(bytes, vb);
    files.push({ file, bytes: entry.bytes, sha256: entry.sha256 });
  }
  const graph = (file: string): GraphBytes => {
    const g = graphs.get(file);
    if (!g) throw new AnnamalaiError('model.invalid', { detail: `${file} is not listed in manifest files` });
    return g;
  };
  return {
    dir: modelDir,
    manifest,
    files,
    base: manifest.base_models.map((b) => graph(b.file)),
    combination: meta ? { kind: 'stacked', meta, graph: graph(meta.file) } : { kind: 'single' },
    ...(vb && spec && { voiceBaseline: { spec, graph: graph(vb.file) } }),
  };
}
