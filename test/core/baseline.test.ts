import { describe, expect, it } from 'vitest';
import { analyzeRecording } from '../../src/core/analyze.ts';
import {
  addRecording,
  type Normaliser,
  normalise,
  normaliserFor,
  recordingEmbedding,
  userVariance,
  type VoiceBaselineSpec,
} from '../../src/core/baseline.ts';
import type {
  BaselineKey,
  DecodeLimits,
  ModelInfo,
  SpeakerRow,
  VoiceBaselineModel,
} from '../../src/core/ports.ts';
import type { AnalysisContext } from '../../src/core/records.ts';
import {
  LABELS,
  MemoryBaselineStore,
  MemoryClassifier,
  MemoryDecoder,
  MemorySettingsStore,
  MemoryStore,
  pcm,
  TWIN_MODEL,
} from '../support/twins.ts';
import { voice } from './signals.ts';

/** Small numbers so every expected value below is worked out by hand. */
const SPEC: VoiceBaselineSpec = {
  dims: 2,
  normalise: 'mean_and_scale',
  shrinkageK: 2,
  minRecordings: 2,
  globalMean: [1, 2],
  globalStd: [2, 4],
};

describe('voice baseline arithmetic (hand-computed)', () => {
  it('Welford: [3,6], [5,2], [1,4] give n 3, mean [3,4], M2 [8,8], so var_u [4,4]', () => {
    let stats = addRecording(undefined, [3, 6]);
    expect(stats).toEqual({ count: 1, mean: [3, 6], m2: [0, 0] });
    stats = addRecording(stats, [5, 2]);
    expect(stats).toEqual({ count: 2, mean: [4, 4], m2: [2, 8] });
    stats = addRecording(stats, [1, 4]);
    expect(stats).toEqual({ count: 3, mean: [3, 4], m2: [8, 8] });
    expect(userVariance(stats)).toEqual([4, 4]);
    // One recording: M2 / max(n - 1, 1) = 0, not a division by zero.
    expect(userVariance(addRecording(undefined, [1, 1]))).toEqual([0, 0]);
  });

  it('statistics of another width (a changed model under the same version) start over', () => {
    expect(addRecording({ count: 5, mean: [1, 2, 3], m2: [1, 1, 1] }, [7, 8])).toEqual({
      count: 1,
      mean: [7, 8],
      m2: [0, 0],
    });
    expect(() => addRecording(undefined, [1, Number.NaN])).toThrow(RangeError);
  });

  it('the recording embedding is the mean of its segment embeddings', () => {
    expect(recordingEmbedding([new Float32Array([1, 4]), new Float32Array([3, 0])])).toEqual([2, 2]);
  });

  it('below min_recordings there is no normaliser: nothing changes', () => {
    expect(normaliserFor(SPEC, undefined)).toBeUndefined();
    expect(normaliserFor(SPEC, addRecording(undefined, [3, 6]))).toBeUndefined();
  });

  it('shrinkage with n 3, k 2: lambda 0.6, mu [2.2, 3.2]; "mean" divides by global_std', () => {
    const stats = { count: 3, mean: [3, 4], m2: [8, 8] };
    const n = normaliserFor({ ...SPEC, normalise: 'mean' }, stats) as Normaliser;
    // mu = 0.6 m + 0.4 global_mean = [1.8 + 0.4, 2.4 + 0.8]
    expect([...n.centre]).toEqual([expect.closeTo(2.2, 12), expect.closeTo(3.2, 12)]);
    expect([...n.scale]).toEqual([2, 4]);
    expect(n.recordings).toBe(3);
    // e = [4, 0]: z = ([4, 0] - [2.2, 3.2]) / [2, 4] = [0.9, -0.8]
    const z = normalise([4, 0], n);
    expect(z[0]).toBeCloseTo(0.9, 6);
    expect(z[1]).toBeCloseTo(-0.8, 6);
  });

  it('"mean_and_scale": sigma^2 = 0.6 var_u + 0.4 global_std^2 = [4, 8.8], z = (e - mu) / sqrt(sigma^2 + 1e-6)', () => {
    const n = normaliserFor(SPEC, { count: 3, mean: [3, 4], m2: [8, 8] }) as Normaliser;
    expect(n.scale[0]).toBeCloseTo(Math.sqrt(4 + 1e-6), 12);
    expect(n.scale[1]).toBeCloseTo(Math.sqrt(8.8 + 1e-6), 12);
    const z = normalise([4, 0], n);
    expect(z[0]).toBeCloseTo(1.8 / Math.sqrt(4.000001), 6);
    expect(z[1]).toBeCloseTo(-3.2 / Math.sqrt(8.800001), 6);
  });

  it('with k 0 the user statistics are used alone; a huge k keeps the global ones', () => {
    const stats = { count: 3, mean: [3, 4], m2: [8, 8] };
    expect([...(normaliserFor({ ...SPEC, shrinkageK: 0 }, stats) as Normaliser).centre]).toEqual([3, 4]);
    const global = normaliserFor({ ...SPEC, shrinkageK: 1e12 }, stats) as Normaliser;
    expect(global.centre[0]).toBeCloseTo(1, 9);
    expect(global.scale[1]).toBeCloseTo(4, 6);
  });
});

// ---- the use case, with twins ----------------------------------------------------------------------

const limits: DecodeLimits = { maxBytes: 1e6, maxDurationSeconds: 600, timeoutMs: 1000 };
const input = { bytes: new Uint8Array([1]), name: 'x.ogg' };
const HAPPY = LABELS.indexOf('happy');
const NEUTRAL = LABELS.indexOf('neutral');

function peak(segment: Float32Array): number {
  return Math.round(segment.reduce((m, v) => Math.max(m, Math.abs(v)), 0) * 1000) / 1000;
}

function oneHot(index: number): Float32Array {
  const row = new Float32Array(LABELS.length);
  row[index] = 1;
  return row;
}

/** Main head: always neutral. Embedding: [peak, 1]. Baseline head: always happy, and records its input z. */
class SpeakerTwin extends MemoryClassifier {
  readonly zs: Float32Array[] = [];
  readonly voiceBaseline: VoiceBaselineModel;
  constructor(spec: VoiceBaselineSpec, info: ModelInfo = TWIN_MODEL) {
    super(() => oneHot(NEUTRAL), info);
    this.voiceBaseline = {
      runs: 'here',
      spec,
      classify: async (segments, normaliser) =>
        segments.map((s): SpeakerRow => {
          const embedding = new Float32Array([peak(s), 1]);
          if (!normaliser) return { probabilities: oneHot(NEUTRAL), embedding };
          this.zs.push(normalise(embedding, normaliser));
          return { probabilities: oneHot(NEUTRAL), embedding, baseline: oneHot(HAPPY) };
        }),
    };
  }
}

const TWIN_SPEC: VoiceBaselineSpec = {
  dims: 2,
  normalise: 'mean_and_scale',
  shrinkageK: 2,
  minRecordings: 2,
  globalMean: [0.5, 1],
  globalStd: [0.25, 0.5],
};
const key: BaselineKey = {
  platform: 'discord',
  workspaceId: 'g1',
  userId: 'u1',
  modelId: TWIN_MODEL.id,
  modelVersion: TWIN_MODEL.version,
};
const context = { platform: 'discord', workspaceId: 'g1', userId: 'u1' };

async function analyse(
  classifier: MemoryClassifier,
  baselines: MemoryBaselineStore,
  amplitude: number,
  ctx: AnalysisContext = context,
) {
  const result = await analyzeRecording(
    {
      decoder: new MemoryDecoder(pcm(voice(5, amplitude))),
      classifier,
      limits,
      store: new MemoryStore(),
      baselines,
    },
    input,
    ctx,
  );
  if (result.status !== 'ok') throw result.error;
  return result;
}

describe('analyzeRecording with a voice baseline', () => {
  it('learns from each recording, uses the baseline only from min_recordings on, with the statistics from before the recording', async () => {
    const classifier = new SpeakerTwin(TWIN_SPEC);
    const baselines = new MemoryBaselineStore();
    const first = await analyse(classifier, baselines, 0.8);
    expect(first.segments[0]?.kind === 'speech' && first.segments[0].top[0]?.label).toBe('neutral');
    expect(first.summary.voiceBaseline).toBeUndefined();
    expect(await baselines.stats(key)).toEqual({ count: 1, mean: [expect.closeTo(0.8, 6), 1], m2: [0, 0] });

    const second = await analyse(classifier, baselines, 0.4);
    expect(second.summary.notes.join(' ')).not.toMatch(/usual voice/);
    expect(classifier.zs).toHaveLength(0);

    // n 2: mean [0.6, 1], M2 [0.08, 0], var_u [0.08, 0]; lambda 0.5: mu [0.55, 1],
    // sigma^2 [0.5·0.08 + 0.5·0.0625, 0.5·0 + 0.5·0.25] = [0.07125, 0.125].
    const third = await analyse(classifier, baselines, 0.6);
    expect(third.segments[0]?.kind === 'speech' && third.segments[0].top[0]?.label).toBe('happy');
    expect(third.summary.voiceBaseline).toEqual({ recordings: 2 });
    expect(third.summary.notes).toContain('Compared with your usual voice, 2 recordings.');
    const [z] = classifier.zs;
    expect(z?.[0]).toBeCloseTo(0.05 / Math.sqrt(0.07125 + 1e-6), 5);
    expect(z?.[1]).toBeCloseTo(0, 6);
    // Added after its analysis: now 3.
    expect((await baselines.stats(key))?.count).toBe(3);
  });

  it('a model without a baseline head, a recording without a user, or no store: nothing is built or used', async () => {
    const baselines = new MemoryBaselineStore();
    await analyse(new MemoryClassifier(() => oneHot(NEUTRAL)), baselines, 0.5);
    await analyse(new SpeakerTwin(TWIN_SPEC), baselines, 0.5, {
      platform: 'discord',
      workspaceId: 'g1',
    } as never);
    expect(await baselines.stats(key)).toBeUndefined();
    const classifier = new SpeakerTwin(TWIN_SPEC);
    const result = await analyzeRecording(
      { decoder: new MemoryDecoder(pcm(voice(5, 0.5))), classifier, limits },
      input,
      context,
    );
    expect(result.status).toBe('ok');
  });

  it('a head that runs in the workers (a gateway of them): audio classified here neither uses nor adds to the baseline', async () => {
    const baselines = new MemoryBaselineStore();
    const twin = new SpeakerTwin(TWIN_SPEC);
    for (const a of [0.8, 0.4]) await analyse(twin, baselines, a);
    const gateway = new MemoryClassifier(() => oneHot(NEUTRAL));
    Object.assign(gateway, { voiceBaseline: { runs: 'elsewhere', spec: { dims: 2, minRecordings: 2 } } });
    const result = await analyse(gateway, baselines, 0.6);
    expect(result.segments[0]?.kind === 'speech' && result.segments[0].top[0]?.label).toBe('neutral');
    expect(result.summary.voiceBaseline).toBeUndefined();
    expect((await baselines.stats(key))?.count).toBe(2);
  });

  it('a failed analysis adds nothing', async () => {
    const baselines = new MemoryBaselineStore();
    const result = await analyzeRecording(
      {
        decoder: new MemoryDecoder(pcm(new Float32Array(80_000))),
        classifier: new SpeakerTwin(TWIN_SPEC),
        limits,
        baselines,
      },
      input,
      context,
    );
    expect(result.status === 'failed' && result.error.code).toBe('audio.silent');
    expect(await baselines.stats(key)).toBeUndefined();
  });

  it('an opted-out user never gets one', async () => {
    const settings = new MemorySettingsStore();
    await settings.setOptedOut('discord', 'u1', true);
    const baselines = new MemoryBaselineStore((p, u) => settings.isOptedOut(p, u));
    await analyse(new SpeakerTwin(TWIN_SPEC), baselines, 0.5);
    expect(await baselines.stats(key)).toBeUndefined();
  });

  it('a new model version starts over: the old statistics are neither used nor kept', async () => {
    const baselines = new MemoryBaselineStore();
    const v0 = new SpeakerTwin(TWIN_SPEC);
    for (const a of [0.8, 0.4]) await analyse(v0, baselines, a);
    const v1 = new SpeakerTwin(TWIN_SPEC, { ...TWIN_MODEL, version: '1' });
    const result = await analyse(v1, baselines, 0.6);
    expect(result.summary.voiceBaseline).toBeUndefined();
    expect(await baselines.stats(key)).toBeUndefined();
    expect((await baselines.stats({ ...key, modelVersion: '1' }))?.count).toBe(1);
  });

  it('baselines are per workspace: the same user elsewhere starts from nothing', async () => {
    const baselines = new MemoryBaselineStore();
    const classifier = new SpeakerTwin(TWIN_SPEC);
    for (const a of [0.8, 0.4]) await analyse(classifier, baselines, a);
    const elsewhere = await analyse(classifier, baselines, 0.6, { ...context, workspaceId: 'g2' });
    expect(elsewhere.summary.voiceBaseline).toBeUndefined();
  });

  it('statistics that cannot be read leave the analysis as it would be without a baseline', async () => {
    const baselines = new MemoryBaselineStore();
    baselines.stats = async () => {
      throw new Error('database gone');
    };
    const result = await analyse(new SpeakerTwin(TWIN_SPEC), baselines, 0.5);
    expect(result.segments[0]?.kind === 'speech' && result.segments[0].top[0]?.label).toBe('neutral');
  });
});
