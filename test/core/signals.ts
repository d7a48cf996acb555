// Synthetic signals for the voice-activity tests: a voice-like sound (voiced syllables with pauses, as
// speech has) and the steady sounds a room or a codec makes. Deterministic: seeded noise, fixed pitch.
import { SAMPLE_RATE } from '../../src/core/audio.ts';

/** A small seeded generator (LCG), so every run hears the same noise. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
}

/**
 * Voiced syllables of 180 ms at 4 per second, with pauses between them, at a pitch near 130 Hz with its
 * harmonics falling off as a voice's do: something a speech detector must hear. `peak` is the amplitude
 * of the loudest sample.
 */
export function voice(seconds: number, peak: number): Float32Array {
  const out = new Float32Array(Math.round(seconds * SAMPLE_RATE));
  const syllable = Math.round(0.18 * SAMPLE_RATE);
  const period = SAMPLE_RATE / 4;
  let max = 0;
  let phase = 0;
  for (let i = 0; i < out.length; i++) {
    // The pitch glides between 115 and 145 Hz; the phase accumulates so the glide stays a voice, not a chirp.
    phase += (2 * Math.PI * (130 + 15 * Math.sin((2 * Math.PI * 3 * i) / SAMPLE_RATE))) / SAMPLE_RATE;
    const inSyllable = i % period;
    if (inSyllable >= syllable) continue;
    const envelope = Math.sin((Math.PI * inSyllable) / syllable);
    let v = 0;
    for (let h = 1; h <= 12; h++) v += Math.sin(h * phase) / h;
    out[i] = envelope * v;
    max = Math.max(max, Math.abs(out[i] ?? 0));
  }
  return out.map((v) => (v * peak) / max);
}

/** Steady noise at an RMS level in dBFS: white, or brown-ish (integrated, as rumble and room tone are). */
export function noise(
  seconds: number,
  dbfs: number,
  color: 'white' | 'brown' = 'white',
  seed = 1,
): Float32Array {
  const random = seeded(seed);
  const out = new Float32Array(Math.round(seconds * SAMPLE_RATE));
  let state = 0;
  for (let i = 0; i < out.length; i++) {
    state = color === 'brown' ? 0.995 * state + random() : random();
    out[i] = state;
  }
  return atRms(out, dbfs);
}

/** 50-Hz mains hum with its odd harmonics at an RMS level in dBFS. */
export function hum(seconds: number, dbfs: number): Float32Array {
  const out = new Float32Array(Math.round(seconds * SAMPLE_RATE));
  for (let i = 0; i < out.length; i++) {
    const w = (2 * Math.PI * 50 * i) / SAMPLE_RATE;
    out[i] = Math.sin(w) + 0.5 * Math.sin(3 * w) + 0.25 * Math.sin(5 * w);
  }
  return atRms(out, dbfs);
}

/** 2-ms decaying clicks, `perSecond` of them, over digital silence (a clock, a keyboard). */
export function clicks(seconds: number, perSecond: number, peak: number): Float32Array {
  const out = new Float32Array(Math.round(seconds * SAMPLE_RATE));
  const every = Math.round(SAMPLE_RATE / perSecond);
  for (let start = 0; start < out.length; start += every) {
    for (let i = 0; i < 32 && start + i < out.length; i++)
      out[start + i] = peak * Math.exp(-i / 8) * (i % 2 ? -1 : 1);
  }
  return out;
}

export function gain(samples: Float32Array, db: number): Float32Array {
  const g = 10 ** (db / 20);
  return samples.map((v) => v * g);
}

/** Sample-wise sum (the result is as long as the first signal). */
export function mix(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((v, i) => v + (b[i] ?? 0));
}

function atRms(samples: Float32Array, dbfs: number): Float32Array {
  let sum = 0;
  for (const v of samples) sum += v * v;
  const rms = Math.sqrt(sum / samples.length);
  return gain(samples, dbfs - 20 * Math.log10(rms));
}
