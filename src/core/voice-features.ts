import { SAMPLE_RATE } from './audio.ts';

/** Voice activity is judged on 20-ms frames. */
export const FRAME_SAMPLES = SAMPLE_RATE / 50;
/** Frames quieter than this are digital silence (padding, a muted mic): they say nothing about the room's floor. */
const DIGITAL_SILENCE_POWER = 1e-14;
/** The pitch search runs on a 4-kHz copy: a voice's fundamental and first formant live well below 2 kHz. */
const DECIMATION = 4;
const PITCH_RATE = SAMPLE_RATE / DECIMATION;
/** Pitch lags from 400 Hz (a child's voice) down to 60 Hz (a low male voice). */
const MIN_LAG = Math.floor(PITCH_RATE / 400);
const MAX_LAG = Math.ceil(PITCH_RATE / 60);
/** Periodicity is measured over 40 ms centred on the frame: two periods of the lowest pitch. */
const PITCH_WINDOW = (PITCH_RATE * 40) / 1000;

/**
 * 2nd-order Butterworth high-pass at 100 Hz: mains hum, rumble and the low end of brown noise carry much
 * energy and no speech, so they would otherwise mask a quiet voice's rise over the floor.
 */
const HIGH_PASS = biquadHighPass(100);

export interface VoiceFeatures {
  /** Per frame: high-passed level in dBFS, −Infinity for digital silence. */
  readonly levelsDb: Float64Array;
  /** The high-passed signal averaged over every 4 samples (for periodicity). */
  readonly decimated: Float32Array;
}

/** One pass of the high-pass filter over the recording: frame levels and a 4-kHz copy for the pitch search. */
export function voiceFeatures(samples: Float32Array): VoiceFeatures {
  const frames = Math.ceil(samples.length / FRAME_SAMPLES);
  const levelsDb = new Float64Array(frames);
  const decimated = new Float32Array(Math.ceil(samples.length / DECIMATION));
  const { b0, b1, b2, a1, a2 } = HIGH_PASS;
  let x1 = 0;
  let x2 = 0;
  let y1 = 0;
  let y2 = 0;
  for (let f = 0; f < frames; f++) {
    const start = f * FRAME_SAMPLES;
    const end = Math.min(start + FRAME_SAMPLES, samples.length);
    let power = 0;
    let rawPower = 0;
    for (let i = start; i < end; i++) {
      const x = samples[i] ?? 0;
      const y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
      x2 = x1;
      x1 = x;
      y2 = y1;
      y1 = y;
      rawPower += x * x;
      power += y * y;
      const d = Math.floor(i / DECIMATION);
      decimated[d] = (decimated[d] ?? 0) + y / DECIMATION;
    }
    // Judged on the input, not the filter's output: the filter rings on for a frame or two after a sound
    // stops, and those fading frames would pull the floor estimate down.
    const silent = rawPower / (end - start) < DIGITAL_SILENCE_POWER;
    levelsDb[f] = silent
      ? -Infinity
      : 10 * Math.log10(Math.max(power / (end - start), DIGITAL_SILENCE_POWER));
  }
  return { levelsDb, decimated };
}

/**
 * How periodic frame `f` is at a voice's pitch: the highest normalised autocorrelation over lags of 60 to
 * 400 Hz, 0 (noise) to 1 (a steady vowel). Computed per frame on demand, as only frames near the floor need it.
 */
export function periodicity(decimated: Float32Array, f: number): number {
  const centre = ((f + 0.5) * FRAME_SAMPLES) / DECIMATION;
  const start = Math.max(0, Math.round(centre - PITCH_WINDOW / 2));
  const end = Math.min(decimated.length, start + PITCH_WINDOW);
  let best = 0;
  for (let lag = MIN_LAG; lag <= MAX_LAG; lag++) {
    let xy = 0;
    let xx = 0;
    let yy = 0;
    for (let i = start; i + lag < end; i++) {
      const a = decimated[i] ?? 0;
      const b = decimated[i + lag] ?? 0;
      xy += a * b;
      xx += a * a;
      yy += b * b;
    }
    if (xx > 0 && yy > 0) best = Math.max(best, xy / Math.sqrt(xx * yy));
  }
  return best;
}

function biquadHighPass(hz: number) {
  // RBJ audio-EQ cookbook, Q = 1/√2.
  const w = (2 * Math.PI * hz) / SAMPLE_RATE;
  const alpha = Math.sin(w) / (2 * Math.SQRT1_2);
  const a0 = 1 + alpha;
  const cos = Math.cos(w);
  return {
    b0: (1 + cos) / 2 / a0,
    b1: -(1 + cos) / a0,
    b2: (1 + cos) / 2 / a0,
    a1: (-2 * cos) / a0,
    a2: (1 - alpha) / a0,
  };
}
