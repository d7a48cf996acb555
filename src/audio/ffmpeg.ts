import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { SAMPLE_RATE } from '../core/audio.ts';
import { AnnamalaiError } from '../core/errors.ts';
import { abortedError, type DecodeGuard, timeoutError, tooLongError } from './guard.ts';
import { f32leToFloat32 } from './pcm.ts';

export type FfmpegSource = 'FFMPEG_PATH' | 'ffmpeg-static' | 'PATH';

export interface FfmpegLocation {
  readonly path: string;
  readonly source: FfmpegSource;
}

/** What to tell an operator when no ffmpeg is found. */
export const FFMPEG_INSTALL_HINT =
  'Install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg), ' +
  'or set FFMPEG_PATH to an ffmpeg binary, or install the optional npm package ffmpeg-static with its binary.';

export interface LocateDependencies {
  /** The path ffmpeg-static reports (null/undefined when the package is absent). */
  readonly ffmpegStatic: () => string | null | undefined;
  readonly isExecutable: (file: string) => boolean;
  readonly platform: NodeJS.Platform;
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function ffmpegStaticPath(): string | null | undefined {
  try {
    const value: unknown = createRequire(import.meta.url)('ffmpeg-static');
    return typeof value === 'string' ? value : null;
  } catch {
    return undefined;
  }
}

export const defaultLocateDependencies: LocateDependencies = {
  ffmpegStatic: ffmpegStaticPath,
  isExecutable: isExecutableFile,
  platform: process.platform,
};

/**
 * Finds ffmpeg: `FFMPEG_PATH` (must point at an executable), then ffmpeg-static when its binary was
 * actually downloaded, then `ffmpeg` on PATH. Returns null when none exists.
 */
export function locateFfmpeg(
  env: Readonly<Record<string, string | undefined>> = process.env,
  deps: LocateDependencies = defaultLocateDependencies,
): FfmpegLocation | null {
  const fromEnv = env.FFMPEG_PATH?.trim();
  if (fromEnv && deps.isExecutable(fromEnv)) return { path: fromEnv, source: 'FFMPEG_PATH' };
  const fromPackage = deps.ffmpegStatic();
  if (fromPackage && deps.isExecutable(fromPackage)) return { path: fromPackage, source: 'ffmpeg-static' };
  const exe = deps.platform === 'win32' ? 'ffmpeg.exe' : 'ffmpeg';
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, exe);
    if (deps.isExecutable(candidate)) return { path: candidate, source: 'PATH' };
  }
  return null;
}

export function missingFfmpegError(
  format: string,
  env: Readonly<Record<string, string | undefined>>,
): AnnamalaiError {
  const badEnv = env.FFMPEG_PATH ? ` (FFMPEG_PATH=${env.FFMPEG_PATH} is not an executable file)` : '';
  return new AnnamalaiError('decoder.missing', {
    detail: `ffmpeg is needed to decode ${format} but was not found${badEnv}. ${FFMPEG_INSTALL_HINT}`,
  });
}

/** First line of `ffmpeg -version`, e.g. "ffmpeg version 5.1.6-0+deb12u1". */
export function ffmpegVersion(location: FfmpegLocation, timeoutMs = 5000): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      location.path,
      ['-hide_banner', '-version'],
      { timeout: timeoutMs, env: {} },
      (error, stdout) => {
        if (error) resolve(undefined);
        else resolve(stdout.split('\n')[0]?.trim() || undefined);
      },
    );
  });
}

/** Builds the sandboxed command line: stdin only, pipe protocol only, the format named, audio only. */
export function ffmpegArgs(format: string, maxSeconds: number): string[] {
  return [
    '-nostdin',
    '-hide_banner',
    '-nostats',
    '-loglevel',
    'error',
    '-protocol_whitelist',
    'pipe',
    '-threads',
    '1',
    '-f',
    format,
    '-i',
    'pipe:0',
    '-map',
    '0:a:0?',
    '-vn',
    '-sn',
    '-dn',
    '-ac',
    '1',
    '-ar',
    String(SAMPLE_RATE),
    // Slightly over the limit so "too long" is detected by counting, not silently cut.
    '-t',
    String(maxSeconds + 1),
    '-f',
    'f32le',
    'pipe:1',
  ];
}

const STDERR_LIMIT = 8 * 1024;
/** A few isolated decode errors (one bad frame) are tolerated; more means a damaged file. */
const TOLERATED_DECODE_ERRORS = 1;

export class FfmpegFailure extends Error {
  readonly exitCode: number | null;
  readonly stderr: string;
  constructor(exitCode: number | null, stderr: string) {
    super(`ffmpeg exited with ${exitCode}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    this.name = 'FfmpegFailure';
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** Maps ffmpeg's stderr to our codes. The stderr goes into `cause` for the logs, never to the user. */
export function classifyFfmpegFailure(failure: FfmpegFailure): AnnamalaiError {
  const text = failure.stderr;
  if (/does not contain any stream|matches no streams|no audio stream/i.test(text)) {
    return new AnnamalaiError('audio.no_audio_track', {
      cause: failure,
      detail: 'no audio stream in the input',
    });
  }
  if (/Decoder \(codec [^)]*\) not found|Unknown decoder|Unsupported codec/i.test(text)) {
    return new AnnamalaiError('audio.unsupported', {
      cause: failure,
      userMessage: 'That file uses an audio codec I cannot decode.',
      detail: 'ffmpeg has no decoder for the codec',
    });
  }
  return new AnnamalaiError('audio.corrupt', { cause: failure, detail: failure.message });
}

function countDecodeErrors(stderr: string): number {
  return (stderr.match(/Error while decoding|Invalid data found|Header missing|error decoding/gi) ?? [])
    .length;
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL'); // the child leads its own process group (detached)
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Runs ffmpeg on the bytes and returns mono float32 PCM at 16 kHz. */
export function runFfmpeg(
  location: FfmpegLocation,
  bytes: Uint8Array,
  format: string,
  guard: DecodeGuard,
): Promise<Float32Array> {
  return new Promise<Float32Array>((resolve, reject) => {
    guard.check();
    const child = spawn(location.path, ffmpegArgs(format, guard.maxDurationSeconds), {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
      env: { LC_ALL: 'C' },
      windowsHide: true,
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let stderr = '';
    let settled = false;
    const maxBytes = (guard.maxSamples + 1) * 4;

    const finish = (error: Error | undefined, value?: Float32Array): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      guard.signal?.removeEventListener('abort', onAbort);
      if (error) {
        killGroup(child.pid);
        reject(error);
      } else if (value) {
        resolve(value);
      }
    };
    const onAbort = (): void => finish(guard.signal ? abortedError(guard.signal) : new Error('aborted'));
    const timer = setTimeout(
      () => finish(timeoutError(guard.timeoutMs)),
      Math.max(0, guard.deadline - Date.now()),
    );
    guard.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('error', (error) => {
      const code = (error as NodeJS.ErrnoException).code;
      finish(
        code === 'ENOENT' || code === 'EACCES'
          ? new AnnamalaiError('decoder.missing', {
              cause: error,
              detail: `cannot run ${location.path}: ${code}`,
            })
          : error,
      );
    });
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > maxBytes) {
        finish(tooLongError(guard.maxDurationSeconds));
        return;
      }
      out.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < STDERR_LIMIT) stderr += chunk.slice(0, STDERR_LIMIT - stderr.length);
    });
    // ffmpeg may stop reading early (error, or the -t cap): EPIPE on stdin is expected then.
    child.stdin.on('error', () => {});
    child.on('close', (exitCode) => {
      if (settled) return;
      const failure = new FfmpegFailure(exitCode, stderr);
      if (exitCode !== 0) {
        finish(classifyFfmpegFailure(failure));
        return;
      }
      if (countDecodeErrors(stderr) > TOLERATED_DECODE_ERRORS) {
        finish(
          new AnnamalaiError('audio.corrupt', {
            cause: failure,
            detail: 'ffmpeg reported repeated decode errors',
          }),
        );
        return;
      }
      const samples = f32leToFloat32(Buffer.concat(out, outBytes));
      if (samples.length > guard.maxSamples) finish(tooLongError(guard.maxDurationSeconds));
      else finish(undefined, samples);
    });
    child.stdin.end(bytes);
  });
}
