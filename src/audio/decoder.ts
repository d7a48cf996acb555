import { type PcmAudio, SAMPLE_RATE } from '../core/audio.ts';
import { AnnamalaiError, isAnnamalaiError } from '../core/errors.ts';
import type { AudioDecoder, AudioInput, DecodeOptions } from '../core/ports.ts';
import { type DecodeWorkerOptions, DecodeWorkers } from './decode-workers.ts';
import { type FfmpegLocation, locateFfmpeg, missingFfmpegError, runFfmpeg } from './ffmpeg.ts';
import { abortedError, DecodeGuard } from './guard.ts';
import { type InProcessKind, outcomeError } from './in-process.ts';
import { moovFirst } from './mp4.ts';
import { clampInPlace } from './pcm.ts';
import { type AudioContainer, FFMPEG_FORMAT, type Sniffed, sniff } from './sniff.ts';

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
  /** The worker threads that run the in-process decoders (defaults fit production). */
  readonly workers?: DecodeWorkerOptions;
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
  private readonly workers: DecodeWorkers;

  constructor(options: AudioDecoderOptions = {}) {
    this.options = options;
    this.logger = options.logger ?? noopLogger;
    this.ffmpegLocation = options.ffmpeg;
    this.workers = new DecodeWorkers(options.workers, this.logger);
  }

  /** Stops the idle decode worker; optional (it never keeps the process alive). */
  close(): Promise<void> {
    return this.workers.close();
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
        return this.inWorker(bytes, 'wav', 'wav', guard);
      case 'ogg':
        if (sniffed.codec === 'opus') return this.inWorker(bytes, 'ogg-opus', 'ogg', guard);
        return this.viaFfmpeg(bytes, 'ogg', guard);
      case 'matroska':
        if (sniffed.opus) return this.inWorker(bytes, 'webm-opus', 'matroska', guard);
        return this.viaFfmpeg(bytes, 'matroska', guard);
      case 'mp4':
        return this.viaFfmpeg(moovFirst(bytes), 'mp4', guard);
      default:
        return this.viaFfmpeg(bytes, sniffed.kind, guard);
    }
  }

  /**
   * WAV and Opus decode in a worker thread; what only ffmpeg reads (A-law WAV, surround Opus) goes there, and an
   * unexpected Opus decoder failure gets a second chance with ffmpeg when there is one.
   */
  private async inWorker(
    bytes: Uint8Array,
    kind: InProcessKind,
    container: AudioContainer,
    guard: DecodeGuard,
  ): Promise<Decoded> {
    const remainingMs = Math.max(1, guard.deadline - Date.now());
    const job = { kind, bytes, timeoutMs: remainingMs, maxDurationSeconds: guard.maxDurationSeconds };
    const outcome = await this.workers.run(job, guard.signal);
    switch (outcome.type) {
      case 'pcm':
        return { samples: outcome.samples, path: kind };
      case 'error':
        throw outcomeError(outcome);
      case 'ffmpeg':
        this.logger.debug({ container, reason: outcome.reason }, 'in-process decoder passes to ffmpeg');
        return this.viaFfmpeg(bytes, container, guard);
      case 'opus-failed': {
        const error = new AnnamalaiError('audio.corrupt', { detail: `Opus: ${outcome.detail}` });
        if (guard.signal?.aborted || !this.ffmpeg()) throw error;
        this.logger.warn({ err: error, container }, 'in-process Opus decoding failed, trying ffmpeg');
        return this.viaFfmpeg(bytes, container, guard);
      }
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
