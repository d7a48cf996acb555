import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { AnnamalaiError } from '../core/errors.ts';

/**
 * Abort signal, wall-clock deadline and sample budget of one decode, checked by the in-process paths
 * between chunks of work (they yield to the event loop there) and enforced by the ffmpeg runner.
 */
export class DecodeGuard {
  readonly signal: AbortSignal | undefined;
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly maxSamples: number;
  readonly maxDurationSeconds: number;

  constructor(options: {
    signal?: AbortSignal | undefined;
    timeoutMs: number;
    maxDurationSeconds: number;
    sampleRate: number;
  }) {
    this.signal = options.signal;
    this.timeoutMs = options.timeoutMs;
    this.deadline = Date.now() + options.timeoutMs;
    this.maxDurationSeconds = options.maxDurationSeconds;
    this.maxSamples = Math.floor(options.maxDurationSeconds * options.sampleRate);
  }

  /** Throws `aborted` or `decoder.timeout` when it is time to stop. */
  check(): void {
    if (this.signal?.aborted) throw abortedError(this.signal);
    if (Date.now() >= this.deadline) throw timeoutError(this.timeoutMs);
  }

  /** Throws `audio.too_long` once more samples than allowed were produced. */
  checkSamples(count: number): void {
    if (count > this.maxSamples) throw tooLongError(this.maxDurationSeconds);
  }

  /** Lets other work (I/O, timers, abort handlers) run between chunks of work, then checks whether to stop. */
  async breathe(): Promise<void> {
    await yieldToEventLoop();
    this.check();
  }
}

export function abortedError(signal: AbortSignal): AnnamalaiError {
  return new AnnamalaiError('aborted', { cause: signal.reason, detail: 'decoding aborted by the caller' });
}

export function timeoutError(timeoutMs: number): AnnamalaiError {
  return new AnnamalaiError('decoder.timeout', { detail: `decoding exceeded ${timeoutMs} ms` });
}

export function tooLongError(maxSeconds: number, actualSeconds?: number): AnnamalaiError {
  const limit = formatDuration(maxSeconds);
  return new AnnamalaiError('audio.too_long', {
    userMessage: `That recording is too long to analyse (the limit is ${limit}).`,
    detail:
      actualSeconds === undefined
        ? `more than ${maxSeconds} s of audio`
        : `${actualSeconds.toFixed(1)} s of audio, limit ${maxSeconds} s`,
  });
}

export function formatDuration(seconds: number): string {
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
