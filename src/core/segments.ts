import { SAMPLE_RATE, SEGMENT_SAMPLES } from './audio.ts';

/**
 * A tail shorter than this after at least one full window is dropped (and said so in the summary):
 * under a second of zero-padded audio the model sees mostly padding, so its answer would mean little.
 * A whole recording shorter than this is refused with audio.too_short.
 */
export const MIN_TAIL_SECONDS = 1;

/** Silence detection works on 20-ms frames. */
const FRAME_SAMPLES = SAMPLE_RATE / 50;
/**
 * A frame is voiced when its RMS reaches -45 dBFS (≈ 0.0056 of full scale): quiet speech on a phone sits
 * around -30 to -20 dBFS, while room tone and Opus comfort noise stay below -50 dBFS.
 */
export const SILENCE_FRAME_DBFS = -45;
/** A segment with less than 0.3 s of voiced frames is silence: not sent to the model, never given an emotion. */
export const MIN_VOICED_SECONDS = 0.3;

const FRAME_RMS_THRESHOLD = 10 ** (SILENCE_FRAME_DBFS / 20);
const MIN_VOICED_FRAMES = Math.ceil((MIN_VOICED_SECONDS * SAMPLE_RATE) / FRAME_SAMPLES);

export interface Window {
  readonly index: number;
  readonly startS: number;
  /** End of the real audio in this window (a padded tail ends before start + 5 s). */
  readonly endS: number;
  /** Always SEGMENT_SAMPLES long; zero-padded past endS. */
  readonly samples: Float32Array;
  readonly silent: boolean;
}

export interface Segmentation {
  readonly windows: readonly Window[];
  /** Seconds at the end that were not analysed (a tail under MIN_TAIL_SECONDS), else 0. */
  readonly droppedTailS: number;
}

export function voicedFrameCount(samples: Float32Array, start: number, end: number): number {
  let voiced = 0;
  for (let frameStart = start; frameStart < end; frameStart += FRAME_SAMPLES) {
    const frameEnd = Math.min(frameStart + FRAME_SAMPLES, end);
    let sum = 0;
    for (let i = frameStart; i < frameEnd; i++) {
      const v = samples[i] ?? 0;
      sum += v * v;
    }
    if (Math.sqrt(sum / (frameEnd - frameStart)) >= FRAME_RMS_THRESHOLD) voiced++;
  }
  return voiced;
}

/** Cuts 16 kHz PCM into the report's fixed 5-s windows. Throws nothing: callers decide what "too short" means. */
export function segment(samples: Float32Array): Segmentation {
  const windows: Window[] = [];
  let droppedTailS = 0;
  for (let start = 0, index = 0; start < samples.length; start += SEGMENT_SAMPLES, index++) {
    const end = Math.min(start + SEGMENT_SAMPLES, samples.length);
    const length = end - start;
    if (length < MIN_TAIL_SECONDS * SAMPLE_RATE && start > 0) {
      droppedTailS = length / SAMPLE_RATE;
      break;
    }
    // subarray shares memory for full windows; a short tail is copied into a zero-padded buffer.
    const window =
      length === SEGMENT_SAMPLES ? samples.subarray(start, end) : padTo(samples.subarray(start, end));
    windows.push({
      index,
      startS: start / SAMPLE_RATE,
      endS: end / SAMPLE_RATE,
      samples: window,
      silent: voicedFrameCount(samples, start, end) < MIN_VOICED_FRAMES,
    });
  }
  return { windows, droppedTailS };
}

function padTo(part: Float32Array): Float32Array {
  const padded = new Float32Array(SEGMENT_SAMPLES);
  padded.set(part);
  return padded;
}
