import { FRAME_SAMPLES, periodicity, voiceFeatures } from './voice-features.ts';

/**
 * Voice activity relative to the recording's own noise floor, not to full scale: quiet but clear speech
 * (a phone far from the mouth, RAVDESS at −35 dBFS peaks, the same clip 40 dB quieter) is still speech,
 * while steady sound at any level (room tone, hiss, hum, Opus comfort noise) and lone clicks are not.
 * Chosen over Silero VAD by measurement (bench/results/quiet.md).
 */

export { FRAME_SAMPLES };
/**
 * A frame is voiced when it stands this far above the noise floor around it: speech syllables rise 20–40 dB
 * over a quiet room, steady noise wobbles a few dB (at 6 dB no synthetic noise, hum, comfort noise or
 * recorded room tone of bench:quiet had a voiced frame); 9 rather than 12 keeps more of a voice in noise.
 */
export const MARGIN_DB = 9;
/**
 * A frame closer to the floor still counts when it is this far above it and periodic at a voice's pitch:
 * vowels under loud noise. Noise near its own floor is not periodic; steady hum never rises above its floor.
 */
export const PERIODIC_MARGIN_DB = 4;
export const MIN_PERIODICITY = 0.6;
/**
 * Below this frame RMS nothing counts, whatever the floor: 16-bit quantisation noise sits near −101 dBFS,
 * and speech 40 dB under a normal recording level still peaks around −75 dBFS.
 */
export const ABSOLUTE_MIN_DBFS = -90;
/** Voiced frames count only in runs this long (80 ms): a syllable lasts longer, a click or a codec glitch does not. */
export const MIN_RUN_FRAMES = 4;
/** The noise floor is this quantile of the frame levels around a frame (speech pauses, closures). */
const FLOOR_QUANTILE = 0.1;
/** The floor of each 5-s block is estimated over the block, and over it with 5 s either side. */
const BLOCK_FRAMES = 250;
const CONTEXT_FRAMES = 250;

/** Per 20-ms frame: 1 when a voice is active there, else 0. The last partial frame counts as a frame. */
export function voiceActivity(samples: Float32Array): Uint8Array {
  const { levelsDb, decimated } = voiceFeatures(samples);
  const loud = new Uint8Array(levelsDb.length);
  for (let block = 0; block < levelsDb.length; block += BLOCK_FRAMES) {
    // The higher of the block's own floor and its surroundings': the surroundings see the room through
    // long speech, the block's own floor keeps a fan or hum that starts here from towering over a quieter
    // neighbour.
    const floorDb = Math.max(
      noiseFloorDb(levelsDb, block, block + BLOCK_FRAMES),
      noiseFloorDb(levelsDb, block - CONTEXT_FRAMES, block + BLOCK_FRAMES + CONTEXT_FRAMES),
    );
    const clear = Math.max(floorDb + MARGIN_DB, ABSOLUTE_MIN_DBFS);
    const near = Math.max(floorDb + PERIODIC_MARGIN_DB, ABSOLUTE_MIN_DBFS);
    const end = Math.min(block + BLOCK_FRAMES, levelsDb.length);
    for (let f = block; f < end; f++) {
      const level = levelsDb[f] ?? -Infinity;
      const voiced = level >= clear || (level >= near && periodicity(decimated, f) >= MIN_PERIODICITY);
      loud[f] = voiced ? 1 : 0;
    }
  }
  return keepRuns(loud, MIN_RUN_FRAMES);
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
