import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Normaliser, normaliserFor } from '../../src/core/baseline.ts';
import { AnnamalaiError } from '../../src/core/errors.ts';
import { createOnnxClassifier, type OnnxClassifier } from '../../src/inference/classifier.ts';
import { loadModel } from '../../src/inference/manifest.ts';
import {
  alphaFeatures,
  BASELINE,
  constant,
  cycle,
  expectedBaselineProbabilities,
  expectedSingleProbabilities,
  TINY_MODEL_DIR,
  TINY_SINGLE_MODEL_DIR,
} from './fixture-maths.ts';

/** tiny-single's manifest: its voice_baseline key and file entries, to graft onto other folders. */
const single = JSON.parse(await readFile(join(TINY_SINGLE_MODEL_DIR, 'manifest.json'), 'utf8')) as {
  voice_baseline: Record<string, unknown>;
  files: Record<string, unknown>;
};

async function rejection(promise: Promise<unknown>): Promise<AnnamalaiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AnnamalaiError);
    return error as AnnamalaiError;
  }
  throw new Error('expected a rejection');
}

function expectRow(actual: Float32Array | undefined, expected: readonly number[], digits = 5) {
  expect(actual).toBeDefined();
  expect([...(actual ?? [])].map((v) => Number(v.toFixed(digits)))).toEqual(
    expected.map((v) => Number(v.toFixed(digits))),
  );
}

describe('the voice-baseline head of a model folder', () => {
  it('tiny-single declares one: its spec comes from the manifest and baseline-stats.f32', async () => {
    const model = await loadModel(TINY_SINGLE_MODEL_DIR);
    expect(model.voiceBaseline?.spec).toEqual(BASELINE);
    expect(model.voiceBaseline?.graph.file).toBe('baseline-head.onnx');
    expect((await loadModel(TINY_MODEL_DIR)).voiceBaseline).toBeUndefined();
  });

  describe('refused with model.invalid', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'annamalai-baseline-'));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    async function copy(source: string, name: string, edit: (m: Record<string, unknown>) => void) {
      const to = join(dir, name);
      await cp(source, to, { recursive: true });
      const path = join(to, 'manifest.json');
      const m = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
      edit(m);
      await writeFile(path, JSON.stringify(m));
      return to;
    }

    it('on a stacked model: "the main graph\'s embedding" is not one graph', async () => {
      const to = await copy(TINY_MODEL_DIR, 'stacked', (m) => {
        m.voice_baseline = single.voice_baseline;
        Object.assign(m.files as object, {
          'baseline-head.onnx': single.files['baseline-head.onnx'],
          'baseline-stats.f32': single.files['baseline-stats.f32'],
        });
      });
      await cp(join(TINY_SINGLE_MODEL_DIR, 'baseline-head.onnx'), join(to, 'baseline-head.onnx'));
      await cp(join(TINY_SINGLE_MODEL_DIR, 'baseline-stats.f32'), join(to, 'baseline-stats.f32'));
      const error = await rejection(loadModel(to));
      expect(error.code).toBe('model.invalid');
      expect(error.detail).toMatch(/voice_baseline: needs a single base model/);
    });

    it('when its files are not listed', async () => {
      const to = await copy(TINY_SINGLE_MODEL_DIR, 'unlisted', (m) => {
        delete (m.files as Record<string, unknown>)['baseline-stats.f32'];
      });
      expect((await rejection(loadModel(to))).detail).toMatch(/"baseline-stats.f32" has no entry in files/);
    });

    it('when the stats do not have 2 × dims values', async () => {
      const to = await copy(TINY_SINGLE_MODEL_DIR, 'dims', (m) => {
        (m.voice_baseline as Record<string, unknown>).dims = 4;
      });
      expect((await rejection(loadModel(to))).detail).toMatch(/baseline-stats.f32 has 24 bytes, expected 32/);
    });

    it('when the head has no such input (at worker start)', async () => {
      const to = await copy(TINY_SINGLE_MODEL_DIR, 'input', (m) => {
        (m.voice_baseline as Record<string, unknown>).input = 'z';
      });
      const error = await rejection(createOnnxClassifier({ modelDir: to, device: 'cpu', workers: 1 }));
      expect(error.detail).toMatch(/baseline-head.onnx has no input "z"/);
    });
  });
});

describe('classifying with the voice-baseline head (onnxruntime on tiny-single)', () => {
  let classifier: OnnxClassifier;
  beforeAll(async () => {
    classifier = await createOnnxClassifier({ modelDir: TINY_SINGLE_MODEL_DIR, device: 'cpu', workers: 1 });
  });
  afterAll(() => classifier.close());

  const a = constant(0.5);
  const b = cycle([0.25, -0.75, 0.5, 0]);
  // A user with recordings [0.5, 0.25, 0.5] and [0, 0.25, 0.75]: n 2, mean [0.25, 0.25, 0.625],
  // M2 [0.125, 0, 0.03125]; lambda = 2 / (2 + 2) = 0.5.
  const stats = { count: 2, mean: [0.25, 0.25, 0.625], m2: [0.125, 0, 0.03125] };

  it('the tiny model (no head) has none; tiny-single has one with the manifest spec', async () => {
    expect(classifier.voiceBaseline?.spec).toEqual(BASELINE);
    const tiny = await createOnnxClassifier({ modelDir: TINY_MODEL_DIR, device: 'cpu', workers: 1 });
    expect(tiny.voiceBaseline).toBeUndefined();
    await tiny.close();
  });

  it('without a normaliser: the main probabilities and the embedding, no baseline row', async () => {
    const model = classifier.voiceBaseline;
    if (!model) throw new Error('no head');
    const rows = await model.classify([a, b], undefined);
    expectRow(rows[0]?.probabilities, expectedSingleProbabilities(a));
    expectRow(rows[1]?.embedding, alphaFeatures(b));
    expect(rows.map((r) => r.baseline)).toEqual([undefined, undefined]);
  });

  it('with a normaliser: the head on z, against hand-computed z', async () => {
    const model = classifier.voiceBaseline;
    if (!model) throw new Error('no head');
    const normaliser = normaliserFor(model.spec, stats) as Normaliser;
    // mu = 0.5 mean + 0.5 [0, 0.125, 0.5] = [0.125, 0.1875, 0.5625];
    // sigma^2 = 0.5 var_u + 0.5 std^2 = 0.5 [0.125, 0, 0.03125] + 0.5 [0.0625, 0.015625, 0.0625]
    //         = [0.09375, 0.0078125, 0.046875].
    const mu = [0.125, 0.1875, 0.5625];
    const sigma2 = [0.09375, 0.0078125, 0.046875];
    const rows = await model.classify([a, b], normaliser);
    for (const [i, x] of [a, b].entries()) {
      const e = alphaFeatures(x);
      const z = e.map((v, d) => (v - (mu[d] ?? 0)) / Math.sqrt((sigma2[d] ?? 0) + 1e-6));
      expectRow(rows[i]?.baseline, expectedBaselineProbabilities(z), 4);
      expectRow(rows[i]?.probabilities, expectedSingleProbabilities(x));
    }
  });

  it('a normaliser of another width is refused with inference.failed, before any worker sees it', async () => {
    const model = classifier.voiceBaseline;
    if (!model) throw new Error('no head');
    const wrong = { centre: new Float64Array(2), scale: new Float64Array(2).fill(1), recordings: 5 };
    const error = await rejection(model.classify([a], wrong));
    expect(error.code).toBe('inference.failed');
    expect(error.detail).toMatch(/normaliser of 2 dims for a model with 3/);
    // The pool still serves.
    expect(await model.classify([a], undefined)).toHaveLength(1);
  });

  it('two speakers sharing a batch each get their own rows: the head only for the one with a baseline', async () => {
    const model = classifier.voiceBaseline;
    if (!model) throw new Error('no head');
    const normaliser = normaliserFor(model.spec, stats) as Normaliser;
    // The first call keeps the one worker busy, so the next two wait and are sent as one batch.
    const [, withBaseline, without] = await Promise.all([
      model.classify([a], undefined),
      model.classify([a, b], normaliser),
      model.classify([b, a], undefined),
    ]);
    expect(withBaseline.every((r) => r.baseline !== undefined)).toBe(true);
    expect(without.every((r) => r.baseline === undefined)).toBe(true);
    expectRow(without[0]?.embedding, alphaFeatures(b));
    expectRow(without[0]?.probabilities, expectedSingleProbabilities(b));
    expectRow(withBaseline[1]?.embedding, alphaFeatures(b));
  });
});
