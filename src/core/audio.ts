/** The one PCM format the pipeline speaks after decoding: mono float32 in [-1, 1] at 16 kHz. */
export const SAMPLE_RATE = 16_000;
/** The report's window: 5 s at 16 kHz. */
export const SEGMENT_SECONDS = 5;
export const SEGMENT_SAMPLES = SAMPLE_RATE * SEGMENT_SECONDS;

export interface PcmAudio {
  readonly samples: Float32Array;
  readonly sampleRate: typeof SAMPLE_RATE;
}

export function durationSeconds(audio: PcmAudio): number {
  return audio.samples.length / audio.sampleRate;
}
