import prism from 'prism-media';
import { type AnalysisResult, analyzePcm, type PcmAnalyzerDeps } from '../../core/analyze.ts';
import { SAMPLE_RATE } from '../../core/audio.ts';
import type { AnalysisContext } from '../../core/records.ts';

/**
 * Per-speaker voice receive: Opus packets arrive tagged with a user id, as a voice connection's receiver
 * hands them out. Packets of users who opted out are dropped before decoding (and never buffered); the
 * rest are decoded per user to 16 kHz mono PCM with their pauses kept as silence, so the core's 5-s
 * windows line up with the conversation's clock. Nothing but the PCM in memory, and only until analysed.
 */

/** 120 ms at 16 kHz, the longest Opus frame. */
const MAX_FRAME_SIZE = 1920;
/** A gap longer than this between packets is a pause: it becomes silence. */
const GAP_MS = 60;

interface Speaker {
  readonly decoder: prism.opus.Decoder;
  readonly parts: Float32Array[];
  samples: number;
  /** Clock time (ms) the audio decoded so far reaches. */
  clockMs: number;
  packets: number;
  readonly ended: Promise<void>;
}

export interface SpeakerCollectorOptions {
  /** Synchronous on purpose: decides per packet. Unknown users should count as opted out until known. */
  readonly isOptedOut: (userId: string) => boolean;
  /** Audio kept per speaker at most (the rest is dropped). */
  readonly maxSecondsPerSpeaker: number;
  readonly now?: () => number;
}

export class SpeakerCollector {
  readonly #options: SpeakerCollectorOptions;
  readonly #speakers = new Map<string, Speaker>();
  #dropped = 0;
  #closed = false;

  constructor(options: SpeakerCollectorOptions) {
    this.#options = options;
  }

  /** Whether packets of this user would be kept: the receiver need not subscribe to the others. */
  wants(userId: string): boolean {
    return !this.#closed && !this.#options.isOptedOut(userId);
  }

  /** Packets dropped because their speaker opted out (or after the end). */
  get droppedPackets(): number {
    return this.#dropped;
  }

  /** Packets decoded, per user. */
  decodedPackets(): Map<string, number> {
    return new Map([...this.#speakers].map(([id, s]) => [id, s.packets]));
  }

  push(userId: string, packet: Buffer, atMs: number = (this.#options.now ?? Date.now)()): void {
    if (!this.wants(userId)) {
      this.#dropped++;
      return;
    }
    const speaker = this.#speakers.get(userId) ?? this.#start(userId, atMs);
    const maxSamples = this.#options.maxSecondsPerSpeaker * SAMPLE_RATE;
    if (speaker.samples >= maxSamples) return;
    const gap = atMs - speaker.clockMs;
    if (speaker.packets > 0 && gap > GAP_MS) {
      const silence = Math.min(Math.round((gap / 1000) * SAMPLE_RATE), maxSamples - speaker.samples);
      speaker.parts.push(new Float32Array(silence));
      speaker.samples += silence;
      speaker.clockMs = atMs;
    }
    speaker.packets++;
    speaker.decoder.write(packet);
  }

  #start(userId: string, atMs: number): Speaker {
    const decoder = new prism.opus.Decoder({ rate: SAMPLE_RATE, channels: 1, frameSize: MAX_FRAME_SIZE });
    const parts: Float32Array[] = [];
    const speaker: Speaker = {
      decoder,
      parts,
      samples: 0,
      clockMs: atMs,
      packets: 0,
      ended: new Promise<void>((resolve) => {
        decoder.on('end', resolve);
        decoder.on('close', resolve);
        // A corrupt packet must not take the session down: that speaker's audio just ends there.
        decoder.on('error', () => resolve());
      }),
    };
    decoder.on('data', (chunk: Buffer) => {
      const n = chunk.length >> 1;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = chunk.readInt16LE(i * 2) / 32768;
      parts.push(out);
      speaker.samples += n;
      speaker.clockMs += (n / SAMPLE_RATE) * 1000;
    });
    this.#speakers.set(userId, speaker);
    return speaker;
  }

  /** Stops taking packets and returns each speaker's PCM (speakers in order of first packet). */
  async finish(): Promise<Map<string, Float32Array>> {
    this.#closed = true;
    for (const s of this.#speakers.values()) s.decoder.end();
    await Promise.all([...this.#speakers.values()].map((s) => s.ended));
    const out = new Map<string, Float32Array>();
    const max = this.#options.maxSecondsPerSpeaker * SAMPLE_RATE;
    for (const [id, s] of this.#speakers) {
      const total = Math.min(
        max,
        s.parts.reduce((n, p) => n + p.length, 0),
      );
      const pcm = new Float32Array(total);
      let offset = 0;
      for (const p of s.parts) {
        if (offset >= total) break;
        pcm.set(p.subarray(0, total - offset), offset);
        offset += Math.min(p.length, total - offset);
      }
      out.set(id, pcm);
    }
    this.#speakers.clear();
    return out;
  }
}

/** One analysis per speaker through the core use case, the PCM already decoded (no decoder in between). */
export async function analyzeSpeakers(
  deps: PcmAnalyzerDeps,
  pcmByUser: ReadonlyMap<string, Float32Array>,
  context: (userId: string) => AnalysisContext,
  options: { readonly signal?: AbortSignal } = {},
): Promise<Map<string, AnalysisResult>> {
  const results = new Map<string, AnalysisResult>();
  for (const [userId, samples] of pcmByUser) {
    results.set(
      userId,
      await analyzePcm(deps, { samples, sampleRate: SAMPLE_RATE }, context(userId), options),
    );
  }
  return results;
}
