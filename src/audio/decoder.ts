import { type PcmAudio, SAMPLE_RATE } from '../core/audio.ts';
import { AnnamalaiError, isAnnamalaiError } from '../core/errors.ts';
import type { AudioDecoder, AudioInput, DecodeOptions } from '../core/ports.ts';
import { type FfmpegLocation, locateFfmpeg, missingFfmpegError, runFfmpeg } from './ffmpeg.ts';
import { abortedError, DecodeGuard, tooLongError } from './guard.ts';
import { moovFirst } from './mp4.ts';
import { inspectOggOpus, OggStructureError } from './ogg.ts';
import { decodeOpus, type OpusDecodePlan } from './opus.ts';
import { clampInPlace } from './pcm.ts';
import { resample } from './resample.ts';
import { type AudioContainer, FFMPEG_FORMAT, type Sniffed, sniff } from './sniff.ts';
import { decodeWavMono, parseWav } from './wav.ts';

/** Minimal logger (pino's Logger fits). */
export interface DecoderLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface AudioDecoderOptions {
  /**
   * Where ffmpeg is: a location, `null` for "none, in-process decoders only", or undefined to look it up
   * (FFMPEG_PATH, ffmpeg-static, PATH) on first need.
   */
  readonly ffmpeg?: FfmpegLocation | null;
  /** Environment used to look ffmpeg up (defaults to process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly logger?: DecoderLogger;
}

/** Which path decoded a file: useful in logs and tests. */
export type DecodePath = 'wav' | 'ogg-opus' | 'webm-opus' | 'ffmpeg';

const CONTAINER_NAMES: Readonly<Record<AudioContainer, string>> = {
  ogg: 'Ogg',
  matroska: 'WebM/Matroska',
  wav: 'WAV',
  flac: 'FLAC',
  mp3: 'MP3',
  mp4: 'MP4/M4A',
  adts: 'AAC',
};

const noopLogger: DecoderLogger = { debug: () => {}, warn: () => {} };

function bytesText(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round((n / (1024 * 1024)) * 10) / 10} MB` : `${Math.ceil(n / 1024)} KB`;
}

interface Decoded {
  readonly samples: Float32Array;
  readonly path: DecodePath;
}

export class Decoder implements AudioDecoder {
  private readonly options: AudioDecoderOptions;
  private readonly logger: DecoderLogger;
  private ffmpegLocation: FfmpegLocation | null | undefined;

  constructor(options: AudioDecoderOptions = {}) {
    this.options = options;
    this.logger = options.logger ?? noopLogger;
    this.ffmpegLocation = options.ffmpeg;
  }

  /** ffmpeg for this decoder, looked up once. */
  ffmpeg(): FfmpegLocation | null {
    if (this.ffmpegLocation === undefined)
      this.ffmpegLocation = locateFfmpeg(this.options.env ?? process.env);
    return this.ffmpegLocation;
  }

  async decode(input: AudioInput, options: DecodeOptions): Promise<PcmAudio> {
    const { limits, signal } = options;
    const bytes = input.bytes;
    if (signal?.aborted) throw abortedError(signal);
    if (bytes.length === 0) throw new AnnamalaiError('audio.empty', { detail: 'input has 0 bytes' });
    if (bytes.length > limits.maxBytes) {
      throw new AnnamalaiError('audio.too_large', {
        userMessage: `That file is too large to analyse (${bytesText(bytes.length)}; the limit is ${bytesText(limits.maxBytes)}).`,
        detail: `${bytes.length} bytes > ${limits.maxBytes}`,
      });
    }
    const sniffed = sniff(bytes);
    const guard = new DecodeGuard({
      signal,
      timeoutMs: limits.timeoutMs,
      maxDurationSeconds: limits.maxDurationSeconds,
      sampleRate: SAMPLE_RATE,
    });
    let decoded: Decoded;
    try {
      decoded = await this.route(bytes, sniffed, guard);
    } catch (error) {
      throw this.normalise(error, signal);
    }
    if (signal?.aborted) throw abortedError(signal); // the caller no longer wants the result
    const { samples, path } = decoded;
    if (samples.length === 0) {
      throw new AnnamalaiError('audio.empty', {
        userMessage: 'That file contains no sound at all (it decodes to 0 samples).',
        detail: `${sniffed.kind} decoded to 0 samples`,
      });
    }
    guard.checkSamples(samples.length);
    this.logger.debug(
      { name: input.name, container: sniffed.kind, path, seconds: samples.length / SAMPLE_RATE },
      'decoded audio',
    );
    return { samples: clampInPlace(samples), sampleRate: SAMPLE_RATE };
  }

  private normalise(error: unknown, signal: AbortSignal | undefined): AnnamalaiError {
    if (isAnnamalaiError(error)) return error;
    if (signal?.aborted) return abortedError(signal);
    if (error instanceof OggStructureError) {
      return new AnnamalaiError('audio.corrupt', { cause: error, detail: `Ogg: ${error.message}` });
    }
    return new AnnamalaiError('audio.corrupt', {
      cause: error,
      detail: error instanceof Error ? error.message : String(error),
    });
  }

  private async route(bytes: Uint8Array, sniffed: Sniffed, guard: DecodeGuard): Promise<Decoded> {
    switch (sniffed.kind) {
      case 'not-audio':
        throw new AnnamalaiError('audio.unsupported', {
          userMessage: `That file looks like ${sniffed.what}, not audio. ${unsupportedHint}`,
          detail: `sniffed ${sniffed.what}`,
        });
      case 'unknown':
        throw new AnnamalaiError('audio.unsupported', { detail: 'unrecognised bytes' });
      case 'wav':
        return this.decodeWav(bytes, guard);
      case 'ogg':
        if (sniffed.codec === 'opus') return this.decodeOggOpus(bytes, guard);
        return this.viaFfmpeg(bytes, 'ogg', guard);
      case 'matroska':
        if (sniffed.opus)
          return this.withFallback(bytes, 'matroska', guard, 'webm-opus', { container: 'webm' });
        return this.viaFfmpeg(bytes, 'matroska', guard);
      case 'mp4':
        return this.viaFfmpeg(moovFirst(bytes), 'mp4', guard);
      default:
        return this.viaFfmpeg(bytes, sniffed.kind, guard);
    }
  }

  private async decodeWav(bytes: Uint8Array, guard: DecodeGuard): Promise<Decoded> {
    const info = parseWav(bytes);
    if (!info || info.encoding === 'other') return this.viaFfmpeg(bytes, 'wav', guard);
    const seconds = info.frames / info.sampleRate;
    if (seconds > guard.maxDurationSeconds) throw tooLongError(guard.maxDurationSeconds, seconds);
    const mono = await decodeWavMono(bytes, info, guard);
    return { samples: await resample(mono, info.sampleRate, SAMPLE_RATE, guard), path: 'wav' };
  }

  private async decodeOggOpus(bytes: Uint8Array, guard: DecodeGuard): Promise<Decoded> {
    const info = inspectOggOpus(bytes); // truncation / CRC / junk → OggStructureError → audio.corrupt
    const seconds = info.samples48k / 48_000;
    if (seconds > guard.maxDurationSeconds) throw tooLongError(guard.maxDurationSeconds, seconds);
    // Channel mapping 0/1 with ≤ 2 channels is a single Opus stream; surround needs a multistream decoder.
    if (info.head.channels > 2) return this.viaFfmpeg(bytes, 'ogg', guard);
    return this.withFallback(bytes, 'ogg', guard, 'ogg-opus', {
      container: 'ogg',
      samples48k: info.samples48k,
      preSkip48k: info.head.preSkip,
      outputGainDb: info.head.outputGainDb,
    });
  }

  /** In-process Opus first; on an unexpected failure, ffmpeg when there is one. */
  private async withFallback(
    bytes: Uint8Array,
    container: AudioContainer,
    guard: DecodeGuard,
    path: DecodePath,
    plan: OpusDecodePlan,
  ): Promise<Decoded> {
    try {
      return { samples: await decodeOpus(bytes, plan, guard), path };
    } catch (error) {
      if (isAnnamalaiError(error) || guard.signal?.aborted) throw error;
      const ffmpeg = this.ffmpeg();
      if (!ffmpeg) throw error;
      this.logger.warn({ err: error, container }, 'in-process Opus decoding failed, trying ffmpeg');
      return this.viaFfmpeg(bytes, container, guard);
    }
  }

  private async viaFfmpeg(
    bytes: Uint8Array,
    container: AudioContainer,
    guard: DecodeGuard,
  ): Promise<Decoded> {
    const ffmpeg = this.ffmpeg();
    if (!ffmpeg) throw missingFfmpegError(CONTAINER_NAMES[container], this.options.env ?? process.env);
    return { samples: await runFfmpeg(ffmpeg, bytes, FFMPEG_FORMAT[container], guard), path: 'ffmpeg' };
  }
}

const unsupportedHint =
  'Supported: Ogg/Opus, WebM, M4A/AAC, MP3, WAV, FLAC, Ogg/Vorbis (also video files with sound).';

export function createAudioDecoder(options: AudioDecoderOptions = {}): Decoder {
  return new Decoder(options);
}
