import type { MessagePort } from 'node:worker_threads';
import { SAMPLE_RATE } from '../core/audio.ts';
import { AnnamalaiError, isAnnamalaiError } from '../core/errors.ts';
import { DecodeGuard, tooLongError } from './guard.ts';
import { inspectOggOpus, OggStructureError } from './ogg.ts';
import { decodeOpus } from './opus.ts';
import { resample } from './resample.ts';
import { decodeWavMono, parseWav } from './wav.ts';

/**
 * The CPU-heavy in-process decoders (WAV parse + resample, Ogg/WebM Opus), as one request → one outcome.
 * Runs inside a decode worker thread (decode-worker.ts), so a slow or hostile file can only stall its own thread.
 */

export type InProcessKind = 'wav' | 'ogg-opus' | 'webm-opus';

export interface InProcessRequest {
  readonly id: number;
  readonly kind: InProcessKind;
  readonly bytes: Uint8Array;
  readonly timeoutMs: number;
  readonly maxDurationSeconds: number;
}

export type InProcessOutcome =
  /** Mono float32 PCM at 16 kHz (not yet clamped). */
  | { readonly type: 'pcm'; readonly samples: Float32Array }
  /** Valid, but a format only ffmpeg decodes (A-law WAV, RF64, surround Opus). */
  | { readonly type: 'ffmpeg'; readonly reason: string }
  | {
      readonly type: 'error';
      readonly code: AnnamalaiError['code'];
      readonly userMessage: string;
      readonly detail: string;
      /** Name and message of the cause, for the logs (an Error does not cross threads with its class). */
      readonly cause?: { readonly name: string; readonly message: string } | undefined;
    }
  /** The Opus decoder failed unexpectedly: ffmpeg may still manage. */
  | { readonly type: 'opus-failed'; readonly detail: string };

export type InProcessReply = InProcessOutcome & { readonly id: number };

function coded(error: AnnamalaiError): InProcessOutcome {
  const prefix = `${error.code}: `;
  const detail = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  const { cause } = error;
  return {
    type: 'error',
    code: error.code,
    userMessage: error.userMessage,
    detail,
    cause: cause instanceof Error ? { name: cause.name, message: cause.message } : undefined,
  };
}

/** The coded error an `error` outcome stands for, rebuilt on the other side of the thread boundary. */
export function outcomeError(outcome: Extract<InProcessOutcome, { type: 'error' }>): AnnamalaiError {
  let cause: Error | undefined;
  if (outcome.cause) {
    cause = new Error(outcome.cause.message);
    cause.name = outcome.cause.name;
  }
  return new AnnamalaiError(outcome.code, {
    userMessage: outcome.userMessage,
    detail: outcome.detail,
    cause,
  });
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function decodeWav(bytes: Uint8Array, guard: DecodeGuard): Promise<InProcessOutcome> {
  const info = parseWav(bytes);
  if (!info) return { type: 'ffmpeg', reason: 'RF64/BW64 WAV' };
  if (info.encoding === 'other') return { type: 'ffmpeg', reason: `WAV format tag ${info.formatTag}` };
  const seconds = info.frames / info.sampleRate;
  if (seconds > guard.maxDurationSeconds) throw tooLongError(guard.maxDurationSeconds, seconds);
  const mono = await decodeWavMono(bytes, info, guard);
  return { type: 'pcm', samples: await resample(mono, info.sampleRate, SAMPLE_RATE, guard) };
}

async function decodeOggOpus(bytes: Uint8Array, guard: DecodeGuard): Promise<InProcessOutcome> {
  let info: ReturnType<typeof inspectOggOpus>;
  try {
    info = inspectOggOpus(bytes); // truncation / CRC / junk / impossible header → audio.corrupt
  } catch (error) {
    if (!(error instanceof OggStructureError)) throw error;
    throw new AnnamalaiError('audio.corrupt', { cause: error, detail: `Ogg: ${error.message}` });
  }
  const seconds = info.samples48k / 48_000;
  if (seconds > guard.maxDurationSeconds) throw tooLongError(guard.maxDurationSeconds, seconds);
  // Channel mapping 0/1 with ≤ 2 channels is a single Opus stream; surround needs a multistream decoder.
  if (info.head.channels > 2) return { type: 'ffmpeg', reason: `${info.head.channels}-channel Opus` };
  return decodeOpusOrReport(bytes, guard, {
    container: 'ogg',
    samples48k: info.samples48k,
    preSkip48k: info.head.preSkip,
    outputGainDb: info.head.outputGainDb,
  });
}

async function decodeOpusOrReport(
  bytes: Uint8Array,
  guard: DecodeGuard,
  plan: Parameters<typeof decodeOpus>[1],
): Promise<InProcessOutcome> {
  try {
    return { type: 'pcm', samples: await decodeOpus(bytes, plan, guard) };
  } catch (error) {
    if (isAnnamalaiError(error)) throw error;
    return { type: 'opus-failed', detail: message(error) };
  }
}

export async function decodeInProcess(request: InProcessRequest): Promise<InProcessOutcome> {
  const guard = new DecodeGuard({
    timeoutMs: request.timeoutMs,
    maxDurationSeconds: request.maxDurationSeconds,
    sampleRate: SAMPLE_RATE,
  });
  try {
    switch (request.kind) {
      case 'wav':
        return await decodeWav(request.bytes, guard);
      case 'ogg-opus':
        return await decodeOggOpus(request.bytes, guard);
      case 'webm-opus':
        return await decodeOpusOrReport(request.bytes, guard, { container: 'webm' });
    }
  } catch (error) {
    if (isAnnamalaiError(error)) return coded(error);
    return coded(new AnnamalaiError('audio.corrupt', { cause: error, detail: message(error) }));
  }
}

/** Answers every request arriving on `port`, transferring the PCM; a test worker passes a `decode` with faults. */
export function serveDecodes(
  port: MessagePort,
  decode: (request: InProcessRequest) => Promise<InProcessOutcome> = decodeInProcess,
): void {
  port.on('message', async (request: InProcessRequest) => {
    const outcome = await decode(request);
    const reply: InProcessReply = { ...outcome, id: request.id };
    port.postMessage(reply, outcome.type === 'pcm' ? [outcome.samples.buffer as ArrayBuffer] : []);
  });
}
