/**
 * Pure arithmetic of the ensemble (no onnxruntime here): the worker runs the graphs, these
 * functions glue their outputs together. Matrices are row-major Float32Arrays.
 */
import { AnnamalaiError } from '../core/errors.ts';

/**
 * Meta-model input: for each row, the base models' logits side by side in base_models order.
 * `perBase[m]` is [batch, width]; the result is [batch, width × perBase.length].
 */
export function concatBaseLogits(
  perBase: readonly Float32Array[],
  batch: number,
  width: number,
): Float32Array {
  const n = perBase.length;
  const out = new Float32Array(batch * width * n);
  perBase.forEach((logits, m) => {
    if (logits.length !== batch * width) {
      throw new AnnamalaiError('inference.failed', {
        detail: `base model #${m} returned ${logits.length} logits, expected ${batch}×${width}`,
      });
    }
    for (let b = 0; b < batch; b++) {
      out.set(logits.subarray(b * width, (b + 1) * width), b * width * n + m * width);
    }
  });
  return out;
}

/** true at the index of every label the model was trained on. */
export function trainedMask(labels: readonly string[], trainedLabels: readonly string[]): boolean[] {
  const trained = new Set(trainedLabels);
  return labels.map((label) => trained.has(label));
}

/**
 * Softmax over the trained labels only, per row of `logits` ([batch, mask.length]).
 * Untrained labels get exactly 0; trained ones sum to 1. Stable: the row's max trained logit is
 * subtracted before exp, and sums are taken in float64. Non-finite logits fail the batch.
 */
export function maskedSoftmax(logits: Float32Array, batch: number, mask: readonly boolean[]): Float32Array[] {
  const width = mask.length;
  if (logits.length !== batch * width) {
    throw new AnnamalaiError('inference.failed', {
      detail: `the model returned ${logits.length} logits, expected ${batch}×${width}`,
    });
  }
  if (!mask.includes(true)) throw new AnnamalaiError('inference.failed', { detail: 'no trained label' });
  const rows: Float32Array[] = [];
  const exps = new Float64Array(width);
  for (let b = 0; b < batch; b++) {
    const row = logits.subarray(b * width, (b + 1) * width);
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < width; i++) {
      const v = row[i] ?? Number.NaN;
      if (!Number.isFinite(v)) {
        throw new AnnamalaiError('inference.failed', { detail: `non-finite logit at row ${b}, label #${i}` });
      }
      if (mask[i] && v > max) max = v;
    }
    let sum = 0;
    for (let i = 0; i < width; i++) {
      const e = mask[i] ? Math.exp((row[i] ?? 0) - max) : 0;
      exps[i] = e;
      sum += e;
    }
    const probabilities = new Float32Array(width);
    for (let i = 0; i < width; i++) probabilities[i] = (exps[i] ?? 0) / sum;
    rows.push(probabilities);
  }
  return rows;
}
