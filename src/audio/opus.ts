import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import prism from 'prism-media';
import { SAMPLE_RATE } from '../core/audio.ts';
import type { DecodeGuard } from './guard.ts';
import { concatFloat32, int16ToFloat32 } from './pcm.ts';

/**
 * Opus in Ogg (Discord voice messages) and WebM (Slack/browser clips), decoded in-process:
 * prism-media demuxer → prism-media Opus decoder (opusscript or @discordjs/opus) asked for 16 kHz mono,
 * so libopus itself downmixes and decodes at the target rate: no resampling step.
 * Pre-skip is dropped; for Ogg the length is trimmed to the last granule position (exact duration).
 */

const OPUS_RATE = 48_000;
const RATE_DIVISOR = OPUS_RATE / SAMPLE_RATE; // 3
/** Largest Opus packet: 120 ms at 16 kHz. */
const MAX_FRAME_SIZE = 1920;
/** ~1 s of speech-rate Opus per chunk: the event loop gets a turn between chunks. */
const INPUT_CHUNK = 4 * 1024;

export interface OpusDecodePlan {
  readonly container: 'ogg' | 'webm';
  /** Exact 48 kHz length after pre-skip when the container says (Ogg); undefined otherwise (WebM). */
  readonly samples48k?: number | undefined;
  readonly preSkip48k?: number | undefined;
  readonly outputGainDb?: number | undefined;
}

/** Which Opus library prism-media found, or undefined when none loads. */
export function opusLibrary(): string | undefined {
  try {
    const decoder = new prism.opus.Decoder({ rate: SAMPLE_RATE, channels: 1, frameSize: MAX_FRAME_SIZE });
    decoder.destroy();
    return prism.opus.Decoder.type;
  } catch {
    return undefined;
  }
}

async function* chunks(bytes: Uint8Array, guard: DecodeGuard): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += INPUT_CHUNK) {
    await guard.breathe();
    yield Buffer.from(bytes.buffer, bytes.byteOffset + offset, Math.min(INPUT_CHUNK, bytes.length - offset));
  }
}

export async function decodeOpus(
  bytes: Uint8Array,
  plan: OpusDecodePlan,
  guard: DecodeGuard,
): Promise<Float32Array> {
  const demuxer = plan.container === 'ogg' ? new prism.opus.OggDemuxer() : new prism.opus.WebmDemuxer();
  const decoder = new prism.opus.Decoder({ rate: SAMPLE_RATE, channels: 1, frameSize: MAX_FRAME_SIZE });
  let preSkip = plan.preSkip48k;
  if (plan.container === 'webm') {
    demuxer.once('head', (head: Buffer) => {
      if (head.length >= 12) preSkip = head.readUInt16LE(10);
    });
  }
  const parts: Float32Array[] = [];
  let total = 0;
  // Enough samples for the trimmed length plus pre-skip; more means the stream outgrew its own header.
  await pipeline(
    Readable.from(chunks(bytes, guard)),
    demuxer,
    decoder,
    async (pcm: AsyncIterable<Buffer>) => {
      for await (const packet of pcm) {
        const samples = int16ToFloat32(packet);
        parts.push(samples);
        total += samples.length;
        guard.checkSamples(total - Math.round((preSkip ?? 0) / RATE_DIVISOR));
      }
    },
    guard.signal ? { signal: guard.signal } : {},
  );
  const skip = Math.min(total, Math.round((preSkip ?? 0) / RATE_DIVISOR));
  let length = total - skip;
  if (plan.samples48k !== undefined) length = Math.min(length, Math.round(plan.samples48k / RATE_DIVISOR));
  const joined = concatFloat32(parts, total).subarray(skip, skip + length);
  const gain = 10 ** ((plan.outputGainDb ?? 0) / 20);
  if (gain !== 1) for (let i = 0; i < joined.length; i++) joined[i] = (joined[i] ?? 0) * gain;
  return joined;
}
