/**
 * parity.json: onnxruntime-node on the shipped files must reproduce the logits recorded at export.
 * Tolerance per base model from its `quantized` flag; the meta model uses the quantized tolerance
 * when any base model is quantized. `expected.meta_logits` is there exactly when the manifest has a
 * meta model. Runs in the calling thread (diagnostics and tests only).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AnnamalaiError } from '../core/errors.ts';
import { ensembleGraphs, type LoadedModel, readVerifiedFile } from './manifest.ts';
import { type DeviceSetting, OnnxEnsemble } from './onnx.ts';

export const PARITY_FILE = 'parity.json';

const matrix = z.array(z.array(z.number()));
export const paritySchema = z.object({
  input: z.object({
    file: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/),
    shape: z.tuple([z.number().int().positive(), z.number().int().positive()]),
  }),
  /** meta_logits: present exactly when the manifest has a meta_model (checked by checkParity). */
  expected: z.object({ base_logits: z.record(z.string(), matrix), meta_logits: matrix.optional() }),
  reference: z.record(z.string(), z.unknown()).optional(),
  tolerance: z.object({ fp32: z.number().positive(), quantized: z.number().positive() }),
});
export type ParitySpec = z.infer<typeof paritySchema>;

export interface ParityCheck {
  readonly name: string;
  readonly tolerance: number;
  readonly maxAbsDiff: number;
  readonly passed: boolean;
}

export interface ParityReport {
  readonly passed: boolean;
  readonly rows: number;
  /** Base models in manifest order, then "meta" when the model is stacked. */
  readonly checks: readonly ParityCheck[];
  readonly device: string;
}

/** Reads parity.json if the folder has one (undefined otherwise). */
export async function readParitySpec(modelDir: string): Promise<ParitySpec | undefined> {
  let text: string;
  try {
    text = await readFile(join(modelDir, PARITY_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AnnamalaiError('model.invalid', { detail: `cannot read ${PARITY_FILE}`, cause: error });
  }
  const parsed = paritySchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new AnnamalaiError('model.invalid', {
      detail: `${PARITY_FILE} is invalid: ${parsed.error.message}`,
    });
  }
  return parsed.data;
}

function maxAbsDiff(
  actual: Float32Array,
  expected: readonly (readonly number[])[],
  width: number,
  what: string,
): number {
  let max = 0;
  expected.forEach((row, r) => {
    if (row.length !== width)
      throw new AnnamalaiError('model.invalid', { detail: `${what} row ${r} has ${row.length} values` });
    row.forEach((v, c) => {
      max = Math.max(max, Math.abs((actual[r * width + c] ?? Number.NaN) - v));
    });
  });
  return Number.isNaN(max) ? Number.POSITIVE_INFINITY : max;
}

/**
 * Runs the ensemble on parity-input.f32 and compares every base model's logits and, when stacked,
 * the meta logits. Throws model.invalid when parity.json does not fit the manifest.
 */
export async function checkParity(
  model: LoadedModel,
  spec: ParitySpec,
  options: { device?: DeviceSetting; intraOpNumThreads?: number } = {},
): Promise<ParityReport> {
  const { manifest, combination } = model;
  const expectedMeta = spec.expected.meta_logits;
  if (combination.kind === 'stacked' && !expectedMeta) {
    throw new AnnamalaiError('model.invalid', {
      detail: `${PARITY_FILE} has no expected.meta_logits but the manifest has a meta_model`,
    });
  }
  if (combination.kind === 'single' && expectedMeta) {
    throw new AnnamalaiError('model.invalid', {
      detail: `${PARITY_FILE} has expected.meta_logits but the manifest has no meta_model`,
    });
  }
  const [rows, cols] = spec.input.shape;
  if (cols !== manifest.segment_samples) {
    throw new AnnamalaiError('model.invalid', {
      detail: `parity input has ${cols} columns, not ${manifest.segment_samples}`,
    });
  }
  const bytes =
    spec.input.file in manifest.files
      ? await readVerifiedFile(model.dir, manifest, spec.input.file)
      : await readFile(join(model.dir, spec.input.file));
  if (bytes.byteLength !== rows * cols * 4) {
    throw new AnnamalaiError('model.invalid', {
      detail: `${spec.input.file} has ${bytes.byteLength} bytes, not ${rows}×${cols}×4`,
    });
  }
  const input = new Float32Array(rows * cols);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < input.length; i++) input[i] = view.getFloat32(i * 4, true);

  const ensemble = await OnnxEnsemble.create(manifest, ensembleGraphs(model), {
    device: options.device ?? 'cpu',
    intraOpNumThreads: options.intraOpNumThreads ?? 1,
  });
  try {
    const out = await ensemble.run(input, rows);
    const width = manifest.labels.length;
    const checks: ParityCheck[] = manifest.base_models.map((b, i) => {
      const expected = spec.expected.base_logits[b.name];
      if (!expected || expected.length !== rows) {
        throw new AnnamalaiError('model.invalid', {
          detail: `${PARITY_FILE} has no ${rows} rows for base model ${b.name}`,
        });
      }
      const tolerance = b.quantized ? spec.tolerance.quantized : spec.tolerance.fp32;
      const diff = maxAbsDiff(out.baseLogits[i] ?? new Float32Array(0), expected, width, b.name);
      return { name: b.name, tolerance, maxAbsDiff: diff, passed: diff <= tolerance };
    });
    if (expectedMeta) {
      if (expectedMeta.length !== rows) {
        throw new AnnamalaiError('model.invalid', {
          detail: `${PARITY_FILE} has no ${rows} rows of meta logits`,
        });
      }
      const metaTolerance = manifest.base_models.some((b) => b.quantized)
        ? spec.tolerance.quantized
        : spec.tolerance.fp32;
      const metaDiff = maxAbsDiff(out.logits, expectedMeta, width, 'meta');
      checks.push({
        name: 'meta',
        tolerance: metaTolerance,
        maxAbsDiff: metaDiff,
        passed: metaDiff <= metaTolerance,
      });
    }
    return { passed: checks.every((c) => c.passed), rows, checks, device: ensemble.device.kind };
  } finally {
    await ensemble.release();
  }
}
