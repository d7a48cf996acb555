import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DecodeLimits } from '../../src/core/ports.ts';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'audio');

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(FIXTURES, name)));
}

export const LIMITS: DecodeLimits = {
  maxBytes: 25 * 1024 * 1024,
  maxDurationSeconds: 600,
  timeoutMs: 60_000,
};

/** Length of the espeak-ng utterance every speech fixture encodes (85 611 samples at 22.05 kHz). */
export const SPEECH_SECONDS = 85_611 / 22_050;
/** The WAV fixtures hold its first 2 s. */
export const WAV_SECONDS = 2;

/** RMS per 20-ms frame at 16 kHz. */
export function envelope(samples: Float32Array, frame = 320): Float64Array {
  const out = new Float64Array(Math.floor(samples.length / frame));
  for (let f = 0; f < out.length; f++) {
    let sum = 0;
    for (let i = f * frame; i < (f + 1) * frame; i++) sum += (samples[i] ?? 0) ** 2;
    out[f] = Math.sqrt(sum / frame);
  }
  return out;
}

function pearson(a: Float64Array, b: Float64Array, lag: number, length: number): number {
  let sa = 0;
  let sb = 0;
  let n = 0;
  for (let i = 0; i < length; i++) {
    const j = i + lag;
    if (j < 0 || j >= b.length || i >= a.length) continue;
    sa += a[i] ?? 0;
    sb += b[j] ?? 0;
    n++;
  }
  const ma = sa / n;
  const mb = sb / n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < length; i++) {
    const j = i + lag;
    if (j < 0 || j >= b.length || i >= a.length) continue;
    const da = (a[i] ?? 0) - ma;
    const db = (b[j] ?? 0) - mb;
    cov += da * db;
    va += da * da;
    vb += db * db;
  }
  return cov / Math.sqrt(va * vb);
}

/**
 * Similarity of two recordings: best Pearson correlation of their 20-ms RMS envelopes over the
 * common length, allowing ±100 ms of codec delay. 1 = same loudness contour.
 */
export function envelopeSimilarity(a: Float32Array, b: Float32Array): number {
  const ea = envelope(a);
  const eb = envelope(b);
  const length = Math.min(ea.length, eb.length);
  let best = -1;
  for (let lag = -5; lag <= 5; lag++) best = Math.max(best, pearson(ea, eb, lag, length));
  return best;
}

export function rms(samples: Float32Array): number {
  let sum = 0;
  for (const v of samples) sum += v * v;
  return Math.sqrt(sum / samples.length);
}

export function peak(samples: Float32Array): number {
  let max = 0;
  for (const v of samples) max = Math.max(max, Math.abs(v));
  return max;
}

/** A RIFF/WAVE file built by hand, for sample formats the fixtures do not cover. */
export function makeWav(options: {
  formatTag: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  extensible?: boolean;
  data: Uint8Array;
  declaredDataSize?: number;
  /** Written as is instead of channels × bytes per sample (for hostile headers). */
  blockAlign?: number;
  /** Written as the fmt chunk's size instead of its real size (for hostile headers). */
  declaredFmtSize?: number;
}): Uint8Array {
  const { channels, sampleRate, bitsPerSample, data } = options;
  const fmtSize = options.extensible ? 40 : 16;
  const blockAlign = options.blockAlign ?? (channels * bitsPerSample) / 8;
  const out = new Uint8Array(12 + 8 + fmtSize + 8 + data.length);
  const view = new DataView(out.buffer);
  const text = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) view.setUint8(at + i, s.charCodeAt(i));
  };
  text(0, 'RIFF');
  view.setUint32(4, out.length - 8, true);
  text(8, 'WAVE');
  text(12, 'fmt ');
  view.setUint32(16, options.declaredFmtSize ?? fmtSize, true);
  view.setUint16(20, options.extensible ? 0xfffe : options.formatTag, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, (sampleRate * blockAlign) % 2 ** 32, true);
  view.setUint16(32, blockAlign, true);
  view.setUint16(34, bitsPerSample, true);
  let at = 36;
  if (options.extensible) {
    view.setUint16(36, 22, true);
    view.setUint16(38, bitsPerSample, true);
    view.setUint32(40, 0, true);
    view.setUint16(44, options.formatTag, true); // SubFormat GUID starts with the format tag
    out.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 46);
    at = 60;
  }
  text(at, 'data');
  view.setUint32(at + 4, options.declaredDataSize ?? data.length, true);
  out.set(data, at + 8);
  return out;
}

/** A sine, frames × channels interleaved, written by `write(view, byteOffset, value)`. */
export function sineFrames(
  frames: number,
  channels: number,
  sampleRate: number,
  frequency: number,
  bytesPerSample: number,
  write: (view: DataView, at: number, value: number) => void,
): Uint8Array {
  const data = new Uint8Array(frames * channels * bytesPerSample);
  const view = new DataView(data.buffer);
  for (let f = 0; f < frames; f++) {
    const v = 0.5 * Math.sin((2 * Math.PI * frequency * f) / sampleRate);
    for (let c = 0; c < channels; c++) write(view, (f * channels + c) * bytesPerSample, v);
  }
  return data;
}
