import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBaseLogits, maskedSoftmax, trainedMask } from '../../src/inference/ensemble.ts';
import { ensembleGraphs, loadModel } from '../../src/inference/manifest.ts';
import { OnnxEnsemble } from '../../src/inference/onnx.ts';
import {
  alphaLogits,
  betaLogits,
  constant,
  cycle,
  expectedProbabilities,
  expectedSingleProbabilities,
  LABELS,
  metaLogits,
  QUESTION,
  TINY_MODEL_DIR,
  TINY_SINGLE_MODEL_DIR,
} from './fixture-maths.ts';

const expectRow = (actual: ArrayLike<number>, expected: readonly number[]) => {
  expect(actual.length).toBe(expected.length);
  expected.forEach((v, i) => {
    expect(actual[i]).toBeCloseTo(v, 6);
  });
};

describe('ensemble arithmetic (pure)', () => {
  it('concatenates base logits row by row in base-model order', () => {
    const a = Float32Array.of(1, 2, 3, 4); // [2 rows, 2]
    const b = Float32Array.of(5, 6, 7, 8);
    expect([...concatBaseLogits([a, b], 2, 2)]).toEqual([1, 2, 5, 6, 3, 4, 7, 8]);
  });

  it('masked softmax gives hand-computed values, 0 for untrained labels, rows summing to 1', () => {
    // exp(0) : exp(ln 2) : exp(ln 3) = 1 : 2 : 3; the untrained logit 50 must not matter.
    const [row] = maskedSoftmax(Float32Array.of(0, Math.LN2, 50, Math.log(3)), 1, [true, true, false, true]);
    expectRow(row ?? [], [1 / 6, 2 / 6, 0, 3 / 6]);
    expect(row?.[2]).toBe(0);
  });

  it('masked softmax is numerically stable for huge logits', () => {
    const rows = maskedSoftmax(Float32Array.of(1000, 1000, -1000, 3e38, 3e38, 0), 2, [true, true, true]);
    expectRow(rows[0] ?? [], [0.5, 0.5, 0]);
    expectRow(rows[1] ?? [], [0.5, 0.5, 0]);
  });

  it('non-finite logits fail with inference.failed', () => {
    expect(() => maskedSoftmax(Float32Array.of(Number.NaN, 0), 1, [true, true])).toThrow(/inference.failed/);
  });

  it('trainedMask follows label order', () => {
    expect(trainedMask(['a', 'b', 'c'], ['c', 'a'])).toEqual([true, false, true]);
  });
});

describe('fixture model through onnxruntime-node matches the closed form', () => {
  let ensemble: OnnxEnsemble;
  const segments = [
    constant(0),
    constant(0.5),
    cycle([0.75, -0.25]),
    cycle([-0.75, -0.25, 0.25, 0.75]),
    constant(-0.125),
  ];

  beforeAll(async () => {
    const model = await loadModel(TINY_MODEL_DIR);
    ensemble = await OnnxEnsemble.create(model.manifest, ensembleGraphs(model), {
      device: 'cpu',
      intraOpNumThreads: 1,
    });
  });
  afterAll(() => ensemble.release());

  it('zero input gives the biases written by hand', async () => {
    const out = await ensemble.run(constant(0), 1);
    expectRow(out.baseLogits[0] ?? [], [-0.5, -0.375, -0.25, -0.125, 0, 0.125, 0.25, 0.375, 0.5]);
    expectRow(out.baseLogits[1] ?? [], [-0.5, 0.25, -0.25, 0.5, 0, -0.5, 0.25, -0.25, 0.5]);
  });

  it('base logits, meta logits and probabilities equal the float64 closed form to 6 digits', async () => {
    const input = new Float32Array(segments.length * 80_000);
    segments.forEach((s, i) => {
      input.set(s, i * 80_000);
    });
    const out = await ensemble.run(input, segments.length);
    segments.forEach((s, i) => {
      const row = (m: Float32Array | undefined) => (m ?? new Float32Array(0)).subarray(i * 9, (i + 1) * 9);
      expectRow(row(out.baseLogits[0]), alphaLogits(s));
      expectRow(row(out.baseLogits[1]), betaLogits(s));
      expectRow(row(out.logits), metaLogits(s));
      expectRow(out.probabilities[i] ?? [], expectedProbabilities(s));
    });
  });

  it('the untrained label gets exactly 0 though its logit is the largest, and rows sum to 1', async () => {
    const out = await ensemble.run(constant(0.5), 1);
    const z = [...out.logits];
    expect(Math.max(...z)).toBe(z[QUESTION]);
    const p = out.probabilities[0] ?? new Float32Array(0);
    expect(LABELS[QUESTION]).toBe('question');
    expect(p[QUESTION]).toBe(0);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });
});

describe('single-model fixture (one base model, no meta model) through onnxruntime-node', () => {
  let ensemble: OnnxEnsemble;
  const segments = [constant(0), constant(0.5), cycle([0.75, -0.25]), cycle([-0.75, -0.25, 0.25, 0.75])];

  beforeAll(async () => {
    const model = await loadModel(TINY_SINGLE_MODEL_DIR);
    expect(model.combination).toEqual({ kind: 'single' });
    ensemble = await OnnxEnsemble.create(model.manifest, ensembleGraphs(model), {
      device: 'cpu',
      intraOpNumThreads: 1,
    });
  });
  afterAll(() => ensemble.release());

  it('probabilities are the masked softmax of the base logits, equal to the float64 closed form', async () => {
    const input = new Float32Array(segments.length * 80_000);
    segments.forEach((s, i) => {
      input.set(s, i * 80_000);
    });
    const out = await ensemble.run(input, segments.length);
    expect(out.baseLogits).toHaveLength(1);
    expect(out.logits).toBe(out.baseLogits[0]); // the model's logits are the base model's own
    segments.forEach((s, i) => {
      expectRow(out.logits.subarray(i * 9, (i + 1) * 9), alphaLogits(s));
      expectRow(out.probabilities[i] ?? [], expectedSingleProbabilities(s));
      expect(out.probabilities[i]?.[QUESTION]).toBe(0);
    });
  });

  it('graphs of a stacked model are refused for a manifest without meta_model (and the reverse)', async () => {
    const single = await loadModel(TINY_SINGLE_MODEL_DIR);
    const stacked = await loadModel(TINY_MODEL_DIR);
    const options = { device: 'cpu', intraOpNumThreads: 1 } as const;
    const stackedGraphs = ensembleGraphs(stacked);
    await expect(
      OnnxEnsemble.create(
        single.manifest,
        { ...stackedGraphs, base: stackedGraphs.base.slice(0, 1) },
        options,
      ),
    ).rejects.toThrow(/model.invalid: graphs for a stacked model, but the manifest has no meta_model/);
    await expect(
      OnnxEnsemble.create(stacked.manifest, { ...stackedGraphs, combination: { kind: 'single' } }, options),
    ).rejects.toThrow(/model.invalid: graphs for a single model, but the manifest has meta_model/);
  });
});
