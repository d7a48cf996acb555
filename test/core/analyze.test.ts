import { describe, expect, it } from 'vitest';
import { analyzeRecording } from '../../src/core/analyze.ts';
import { AnnamalaiError } from '../../src/core/errors.ts';
import type { DecodeLimits } from '../../src/core/ports.ts';
import { concat, LABELS, MemoryClassifier, MemoryDecoder, MemoryStore, pcm } from '../support/twins.ts';
import { voice } from './signals.ts';

const limits: DecodeLimits = { maxBytes: 1e6, maxDurationSeconds: 600, timeoutMs: 1000 };
const input = { bytes: new Uint8Array([1]), name: 'x.ogg' };
const context = { platform: 'cli', userId: 'u1', channelId: 'c1' };

/** Loud segments score anger 0.9, quieter ones neutral 0.7: every expected number follows by hand. */
function byLoudness(segment: Float32Array): Float32Array {
  const peak = segment.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const row = new Float32Array(LABELS.length);
  if (peak > 0.5) {
    row[0] = 0.9; // anger
    row[7] = 0.1; // sad
  } else {
    row[5] = 0.7; // neutral
    row[4] = 0.2; // happy
    row[7] = 0.1; // sad
  }
  return row;
}

describe('analyzeRecording', () => {
  it('skips silent windows, scores the others and summarises the dominant emotion', async () => {
    const audio = concat(voice(5, 0.8), new Float32Array(80_000), voice(5, 0.2), voice(3, 0.8));
    const classifier = new MemoryClassifier(byLoudness);
    const result = await analyzeRecording(
      { decoder: new MemoryDecoder(pcm(audio)), classifier, limits },
      input,
      context,
    );
    if (result.status !== 'ok') throw result.error;
    expect(result.durationS).toBe(18);
    expect(result.segments.map((s) => s.kind)).toEqual(['speech', 'silence', 'speech', 'speech']);
    expect(classifier.batches).toEqual([3]);
    const first = result.segments[0];
    expect(first?.kind === 'speech' && first.top).toEqual([
      { label: 'anger', confidence: expect.closeTo(0.9, 6) },
      { label: 'sad', confidence: expect.closeTo(0.1, 6) },
      { label: 'bored', confidence: 0 },
    ]);
    expect(first?.kind === 'speech' && first.band).toBe('green');
    const third = result.segments[2];
    expect(third?.kind === 'speech' && third.band).toBe('orange');
    expect(result.summary.dominant).toEqual({
      label: 'anger',
      confidence: expect.closeTo((0.9 + 0 + 0.9) / 3, 6),
    });
    expect(result.summary.distribution.map((d) => [d.label, d.segments])).toEqual([
      ['anger', 2],
      ['neutral', 1],
    ]);
    expect(result.summary.notes[0]).toMatch(/1 of 4 segments were silent/);
  });

  it('refuses an all-silent recording with audio.silent and never calls the model', async () => {
    const classifier = new MemoryClassifier(byLoudness);
    const result = await analyzeRecording(
      { decoder: new MemoryDecoder(pcm(new Float32Array(160_000))), classifier, limits },
      input,
      context,
    );
    expect(result.status === 'failed' && result.error.code).toBe('audio.silent');
    expect(classifier.batches).toEqual([]);
  });

  it('refuses a recording under 1 s with audio.too_short', async () => {
    const result = await analyzeRecording(
      {
        decoder: new MemoryDecoder(pcm(voice(0.5, 0.5))),
        classifier: new MemoryClassifier(byLoudness),
        limits,
      },
      input,
      context,
    );
    expect(result.status === 'failed' && result.error.code).toBe('audio.too_short');
  });

  it('passes a decoder error through with its code and stores the failure without audio', async () => {
    const store = new MemoryStore();
    const result = await analyzeRecording(
      {
        decoder: new MemoryDecoder(new AnnamalaiError('audio.corrupt')),
        classifier: new MemoryClassifier(byLoudness),
        limits,
        store,
      },
      input,
      context,
    );
    expect(result.status === 'failed' && result.error.code).toBe('audio.corrupt');
    const [saved] = await store.userHistory('cli', 'u1', 10);
    expect(saved?.outcome).toEqual({
      status: 'failed',
      error: { code: 'audio.corrupt', message: 'I could not decode that audio: the file looks damaged.' },
    });
  });

  it('still answers with the result when the store throws, saying it was not saved (storage.failed)', async () => {
    const store = new MemoryStore();
    store.save = async () => {
      throw new Error('disk full');
    };
    const result = await analyzeRecording(
      {
        decoder: new MemoryDecoder(pcm(voice(5, 0.8))),
        classifier: new MemoryClassifier(byLoudness),
        limits,
        store,
      },
      input,
      context,
    );
    expect(result.status).toBe('ok');
    expect(result.status === 'ok' && result.segments.length).toBe(1);
    const saved = result.status === 'ok' ? result.saved : undefined;
    expect(saved?.ok === false && saved.error.code).toBe('storage.failed');
    expect(saved?.ok === false && (saved.error.cause as Error).message).toBe('disk full');
  });

  it('stores a successful analysis with its context and model identity', async () => {
    const store = new MemoryStore();
    const now = new Date('2026-01-02T03:04:05Z');
    const result = await analyzeRecording(
      {
        decoder: new MemoryDecoder(pcm(voice(5, 0.8))),
        classifier: new MemoryClassifier(byLoudness),
        limits,
        store,
        now: () => now,
      },
      input,
      context,
    );
    expect(result.status === 'ok' && result.saved?.ok && result.saved.analysis.id).toBe('1');
    const saved = await store.get('1');
    expect(saved).toMatchObject({ platform: 'cli', userId: 'u1', createdAt: now, model: { id: 'twin' } });
  });

  it('classifies long recordings in batches of 8 and reports progress', async () => {
    const classifier = new MemoryClassifier(byLoudness);
    const progress: string[] = [];
    await analyzeRecording(
      { decoder: new MemoryDecoder(pcm(voice(100, 0.3))), classifier, limits },
      input,
      context,
      {
        onProgress: (p) => progress.push(p.stage === 'classifying' ? `${p.done}/${p.total}` : p.stage),
      },
    );
    expect(classifier.batches).toEqual([8, 8, 4]);
    expect(progress).toEqual(['decoding', '8/20', '16/20', '20/20']);
  });

  it('stops with code aborted when the signal fires', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await analyzeRecording(
      {
        decoder: new MemoryDecoder(pcm(voice(5, 0.3))),
        classifier: new MemoryClassifier(byLoudness),
        limits,
      },
      input,
      context,
      { signal: controller.signal },
    );
    expect(result.status === 'failed' && result.error.code).toBe('aborted');
  });
});
