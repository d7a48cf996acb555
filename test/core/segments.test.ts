import { describe, expect, it } from 'vitest';
import { SEGMENT_SAMPLES } from '../../src/core/audio.ts';
import { segment } from '../../src/core/segments.ts';
import { concat, tone } from '../support/twins.ts';
import { mix, noise, voice } from './signals.ts';

describe('segment', () => {
  it('cuts 12 s into two full windows and a zero-padded 2-s tail', () => {
    const { windows, droppedTailS } = segment(tone(12, 0.3));
    expect(windows.map((w) => [w.startS, w.endS])).toEqual([
      [0, 5],
      [5, 10],
      [10, 12],
    ]);
    expect(windows.every((w) => w.samples.length === SEGMENT_SAMPLES)).toBe(true);
    const tail = windows[2]?.samples;
    expect(tail?.[2 * 16_000 - 1]).not.toBe(0);
    expect(tail?.subarray(2 * 16_000).every((v) => v === 0)).toBe(true);
    expect(droppedTailS).toBe(0);
  });

  it('drops a tail under 1 s after a full window and reports its length', () => {
    const { windows, droppedTailS } = segment(tone(5.5, 0.3));
    expect(windows).toHaveLength(1);
    expect(droppedTailS).toBeCloseTo(0.5, 6);
  });

  it('keeps a tail of exactly 1 s', () => {
    expect(segment(tone(6, 0.3)).windows).toHaveLength(2);
  });

  it('keeps a lone recording shorter than 5 s as one padded window', () => {
    const { windows } = segment(tone(2, 0.3));
    expect(windows).toHaveLength(1);
    expect(windows[0]?.endS).toBe(2);
  });

  it('marks digital silence and steady noise as silent but a voice as speech, however quiet', () => {
    const steadyNoise = noise(5, -45); // the old −45 dBFS gate called this voiced
    const quietVoice = voice(5, 0.001); // peaks at −60 dBFS: the old gate called this silent
    const { windows } = segment(concat(new Float32Array(SEGMENT_SAMPLES), steadyNoise, quietVoice));
    expect(windows.map((w) => w.silent)).toEqual([true, true, false]);
  });

  it('calls a window with one 0.18-s syllable silent and one with three (0.68 s) speech', () => {
    // voice() speaks 0.18-s syllables every 0.25 s; the windows sit in a quiet room at −70 dBFS.
    const short = concat(voice(0.2, 0.3), new Float32Array(SEGMENT_SAMPLES - 3200));
    const enough = concat(voice(0.75, 0.3), new Float32Array(SEGMENT_SAMPLES - 12_000));
    const room = noise(10, -70, 'brown');
    expect(segment(mix(concat(short, enough), room)).windows.map((w) => w.silent)).toEqual([true, false]);
  });

  it('returns no windows for no samples', () => {
    expect(segment(new Float32Array(0)).windows).toEqual([]);
  });
});
