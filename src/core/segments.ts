import { SAMPLE_RATE, SEGMENT_SAMPLES } from './audio.ts';
import { FRAME_SAMPLES, voiceActivity } from './voice-activity.ts';

/**
 * A tail shorter than this after at least one full window is dropped (and said so in the summary):
 * under a second of zero-padded audio the model sees mostly padding, so its answer would mean little.
 * A whole recording shorter than this is refused with audio.too_short.
 */
export const MIN_TAIL_SECONDS = 1;

/**
 * A segment with less than 0.3 s of voice activity (src/core/voice-activity.ts) is silence: not sent to
 * the model, never given an emotion.
 */
export const MIN_VOICED_SECONDS = 0.3;

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

function voicedFrameCount(activity: Uint8Array, start: number, end: number): number {
  let voiced = 0;
  for (let f = start / FRAME_SAMPLES; f < Math.ceil(end / FRAME_SAMPLES); f++) voiced += activity[f] ?? 0;
  return voiced;
}

/** Cuts 16 kHz PCM into the report's fixed 5-s windows. Throws nothing: callers decide what "too short" means. */
export function segment(samples: Float32Array): Segmentation {
  const windows: Window[] = [];
  // Judged over the whole recording at once: the noise floor of a window depends on the audio around it.
  const activity = voiceActivity(samples);
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
      silent: voicedFrameCount(activity, start, end) < MIN_VOICED_FRAMES,
    });
  }
  return { windows, droppedTailS };
}

function padTo(part: Float32Array): Float32Array {
  const padded = new Float32Array(SEGMENT_SAMPLES);
  padded.set(part);
  return padded;
}
