import { describe, expect, it } from 'vitest';
import { analyzePcm, analyzeRecording } from '../../src/core/analyze.ts';
import type { DecodeLimits } from '../../src/core/ports.ts';
import { LABELS, MemoryClassifier, MemoryDecoder, MemoryStore, pcm } from '../support/twins.ts';
import { voice } from './signals.ts';

const limits: DecodeLimits = { maxBytes: 1e6, maxDurationSeconds: 60, timeoutMs: 1000 };
const context = { platform: 'discord', userId: 'u1', channelId: 'c1' };
const neutral = () => {
  const row = new Float32Array(LABELS.length);
  row[5] = 1;
  return row;
};

describe('analyzePcm: decoded audio enters the use case without a decoder', () => {
  it('gives the same result as analyzeRecording on the same PCM, and stores it', async () => {
    const audio = voice(8, 0.5);
    const store = new MemoryStore();
    const viaPcm = await analyzePcm(
      { classifier: new MemoryClassifier(neutral), limits, store },
      pcm(audio),
      context,
    );
    const viaDecoder = await analyzeRecording(
      { decoder: new MemoryDecoder(pcm(audio)), classifier: new MemoryClassifier(neutral), limits },
      { bytes: new Uint8Array([1]), name: 'x.ogg' },
      context,
    );
    if (viaPcm.status !== 'ok' || viaDecoder.status !== 'ok') throw new Error('expected results');
    expect(viaPcm.segments).toEqual(viaDecoder.segments);
    expect(viaPcm.saved?.ok).toBe(true);
    expect(await store.userHistory('discord', 'u1', 5)).toHaveLength(1);
  });

  it('refuses PCM over the duration limit (no decoder stopped it) and empty PCM, with their codes', async () => {
    const deps = { classifier: new MemoryClassifier(neutral), limits, store: new MemoryStore() };
    const long = await analyzePcm(deps, pcm(voice(61, 0.5)), context);
    expect(long.status === 'failed' && long.error.code).toBe('audio.too_long');
    const empty = await analyzePcm(deps, pcm(new Float32Array(0)), context);
    expect(empty.status === 'failed' && empty.error.code).toBe('audio.empty');
    // Failures are stored too, as analyzeRecording stores them.
    expect(await deps.store.userHistory('discord', 'u1', 5)).toHaveLength(2);
  });
});
