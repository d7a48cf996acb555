/**
 * Independent float64 mirror of test/fixtures/make_fixture_model.py: the tiny fixtures' graphs
 * written out by hand, so tests compare onnxruntime's numbers with closed-form ones.
 * tiny/ is stacked (alpha, beta, meta); tiny-single/ is alpha alone, without a meta model.
 */
import { REPORT_LABELS } from '../../src/core/labels.ts';

export const LABELS = REPORT_LABELS;
export const QUESTION = 6;
export const TINY_MODEL_DIR = new URL('../fixtures/models/tiny/', import.meta.url).pathname;
export const TINY_SINGLE_MODEL_DIR = new URL('../fixtures/models/tiny-single/', import.meta.url).pathname;
const L = 9;

const alphaW = (k: number, j: number) => (((k * 5 + j * 2) % 7) - 3) / 4;
const alphaB = (j: number) => (j - 4) / 8;
const betaW = (k: number, j: number) => (((k * 3 + j * 5) % 9) - 4) * 0.25;
const betaB = (j: number) => (((j * 3) % 5) - 2) / 4;
const metaW = (i: number, j: number) => (((i * 7 + j * 3) % 11) - 5) / 8;
const metaB = (j: number) => (j === QUESTION ? 8 : (((j * 5) % 9) - 4) / 16);

function affine(
  features: readonly number[],
  w: (k: number, j: number) => number,
  b: (j: number) => number,
): number[] {
  return Array.from({ length: L }, (_, j) => features.reduce((sum, f, k) => sum + f * w(k, j), b(j)));
}

export function alphaFeatures(x: Float32Array): number[] {
  let sum = 0;
  let sq = 0;
  let maxAbs = 0;
  for (const v of x) {
    sum += v;
    sq += v * v;
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  return [sum / x.length, sq / x.length, maxAbs];
}

export function betaFeatures(x: Float32Array): number[] {
  let abs = 0;
  let max = Number.NEGATIVE_INFINITY;
  let min = Number.POSITIVE_INFINITY;
  for (const v of x) {
    abs += Math.abs(v);
    max = Math.max(max, v);
    min = Math.min(min, v);
  }
  return [abs / x.length, max, min];
}

export const alphaLogits = (x: Float32Array) => affine(alphaFeatures(x), alphaW, alphaB);
export const betaLogits = (x: Float32Array) => affine(betaFeatures(x), betaW, betaB);
export const metaLogits = (x: Float32Array) => affine([...alphaLogits(x), ...betaLogits(x)], metaW, metaB);

/** Softmax of `z` over every label but "question", which gets 0. */
function softmaxButQuestion(z: readonly number[]): number[] {
  const trained = z.filter((_, j) => j !== QUESTION);
  const max = Math.max(...trained);
  const e = z.map((v, j) => (j === QUESTION ? 0 : Math.exp(v - max)));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}

/** tiny/: the masked softmax of the meta logits. */
export const expectedProbabilities = (x: Float32Array) => softmaxButQuestion(metaLogits(x));

/** tiny-single/: the masked softmax of alpha's own logits. */
export const expectedSingleProbabilities = (x: Float32Array) => softmaxButQuestion(alphaLogits(x));

/** A 5-s segment whose every sample is `value` (dyadic values keep onnxruntime's sums exact). */
export const constant = (value: number) => new Float32Array(80_000).fill(value);

/** A 5-s segment cycling through `values`. */
export function cycle(values: readonly number[]): Float32Array {
  const x = new Float32Array(80_000);
  for (let i = 0; i < x.length; i++) x[i] = values[i % values.length] ?? 0;
  return x;
}

/** tiny-single/'s voice baseline (manifest voice_baseline and baseline-stats.f32). */
export const BASELINE = {
  dims: 3,
  normalise: 'mean_and_scale',
  shrinkageK: 2,
  minRecordings: 2,
  globalMean: [0, 0.125, 0.5],
  globalStd: [0.25, 0.125, 0.25],
} as const;
const headW = (k: number, j: number) => (((k * 3 + j * 2) % 5) - 2) / 2;
const headB = (j: number) => ((j % 3) - 1) / 4;

/** tiny-single/'s baseline head on a normalised embedding z: the masked softmax of z W + b. */
export const expectedBaselineProbabilities = (z: readonly number[]) =>
  softmaxButQuestion(affine(z, headW, headB));
