import { SAMPLE_RATE } from './audio.ts';

/**
 * Voice activity relative to the recording's own noise floor, not to full scale: quiet but clear speech
 * (a phone far from the mouth, RAVDESS at −35 dBFS peaks, the same clip 40 dB quieter) is still speech,
 * while steady sound at any level (room tone, hiss, hum, Opus comfort noise) and lone clicks are not.
 */

/** Voice activity is judged on 20-ms frames. */
export const FRAME_SAMPLES = SAMPLE_RATE / 50;
/**
 * A frame is voiced when it stands this far above the noise floor around it: speech syllables rise 20–40 dB
 * over a quiet room, steady noise wobbles a few dB (no synthetic or recorded room tone reached 6 dB for
 * 80 ms); 9 rather than 12 keeps more of a voice over loud background noise.
 */
export const MARGIN_DB = 9;
/**
 * Below this frame RMS nothing counts, whatever the floor: 16-bit quantisation noise sits near −101 dBFS,
 * and speech 40 dB under a normal recording level still peaks around −75 dBFS.
 */
export const ABSOLUTE_MIN_DBFS = -90;
/** Voiced frames count only in runs this long (80 ms): a syllable lasts longer, a click or a codec glitch does not. */
export const MIN_RUN_FRAMES = 4;
/** The noise floor is this quantile of the frame levels around a frame (speech pauses, closures). */
const FLOOR_QUANTILE = 0.1;
/** The floor of each 5-s block is estimated over the block and 5 s either side, so it follows a changing room. */
const BLOCK_FRAMES = 250;
const CONTEXT_FRAMES = 250;
/** Frames quieter than this are digital silence (padding, a muted mic): they say nothing about the room's floor. */
const DIGITAL_SILENCE_POWER = 1e-14;

/**
 * 2nd-order Butterworth high-pass at 100 Hz: mains hum, rumble and the low end of brown noise carry much
 * energy and no speech, so they would otherwise mask a quiet voice's rise over the floor.
 */
const HIGH_PASS = biquadHighPass(100);

/** Per 20-ms frame: 1 when a voice is active there, else 0. The last partial frame counts as a frame. */
export function voiceActivity(samples: Float32Array): Uint8Array {
  const levels = frameLevelsDb(samples);
  const loud = new Uint8Array(levels.length);
  for (let block = 0; block < levels.length; block += BLOCK_FRAMES) {
    // The higher of the block's own floor and its surroundings': the surroundings see the room through
    // long speech, the block's own floor keeps a fan or hum that starts here from towering over a quieter
    // neighbour.
    const floorDb = Math.max(
      noiseFloorDb(levels, block, block + BLOCK_FRAMES),
      noiseFloorDb(levels, block - CONTEXT_FRAMES, block + BLOCK_FRAMES + CONTEXT_FRAMES),
    );
    const threshold = Math.max(floorDb + MARGIN_DB, ABSOLUTE_MIN_DBFS);
    const end = Math.min(block + BLOCK_FRAMES, levels.length);
    for (let f = block; f < end; f++) loud[f] = (levels[f] ?? -Infinity) >= threshold ? 1 : 0;
  }
  return keepRuns(loud, MIN_RUN_FRAMES);
}

/** High-passed frame levels in dBFS (−Infinity for digital silence). */
export function frameLevelsDb(samples: Float32Array): Float64Array {
  const frames = Math.ceil(samples.length / FRAME_SAMPLES);
  const levels = new Float64Array(frames);
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
      rawPower += x * x;
      const y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
      x2 = x1;
      x1 = x;
      y2 = y1;
      y1 = y;
      power += y * y;
    }
    // Judged on the input, not the filter's output: the filter rings on for a frame or two after a sound
    // stops, and those fading frames would pull the floor estimate down.
    const silent = rawPower / (end - start) < DIGITAL_SILENCE_POWER;
    levels[f] = silent ? -Infinity : 10 * Math.log10(Math.max(power / (end - start), DIGITAL_SILENCE_POWER));
  }
  return levels;
}

function noiseFloorDb(levels: Float64Array, from: number, to: number): number {
  const heard = levels.slice(Math.max(0, from), Math.min(levels.length, to)).filter(Number.isFinite).sort();
  return heard[Math.floor(FLOOR_QUANTILE * heard.length)] ?? Infinity;
}

function keepRuns(flags: Uint8Array, minRun: number): Uint8Array {
  const out = new Uint8Array(flags.length);
  for (let start = 0; start < flags.length; ) {
    if (!flags[start]) {
      start++;
      continue;
    }
    let end = start;
    while (end < flags.length && flags[end]) end++;
    if (end - start >= minRun) out.fill(1, start, end);
    start = end;
  }
  return out;
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
