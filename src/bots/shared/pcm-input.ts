import { type PcmAudio, SAMPLE_RATE } from '../../core/audio.ts';
import { AnnamalaiError } from '../../core/errors.ts';
import type { AudioDecoder, AudioInput, DecodeOptions } from '../../core/ports.ts';

/**
 * Audio that adapters already hold as 16 kHz mono PCM (voice-channel receive) goes through the same
 * analyzeRecording use case as files, with PcmDecoder in place of the file decoder. It is chosen by the
 * caller, never by a content type, so no upload can declare itself to be raw PCM and skip decoding.
 */
const PCM_F32_16K = 'audio/x-annamalai-pcm-f32le-16k';

export function pcmInput(samples: Float32Array, name: string): AudioInput {
  return {
    bytes: new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength),
    name,
    contentType: PCM_F32_16K,
  };
}

export class PcmDecoder implements AudioDecoder {
  async decode(input: AudioInput, options: DecodeOptions): Promise<PcmAudio> {
    if (input.contentType !== PCM_F32_16K) throw new AnnamalaiError('audio.unsupported');
    options.signal?.throwIfAborted();
    const { bytes } = input;
    if (bytes.byteLength === 0) throw new AnnamalaiError('audio.empty');
    if (bytes.byteLength % 4 !== 0) throw new AnnamalaiError('audio.corrupt', { detail: 'PCM not float32' });
    const copy = new Float32Array(bytes.byteLength / 4);
    new Uint8Array(copy.buffer).set(bytes);
    if (copy.length / SAMPLE_RATE > options.limits.maxDurationSeconds)
      throw new AnnamalaiError('audio.too_long');
    return { samples: copy, sampleRate: SAMPLE_RATE };
  }
}
