// What every benchmark shares: the model it measures, the machine it ran on, 60-s inputs made from the
// shipped sample, and nearest-rank quantiles.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { type FfmpegLocation, locateFfmpeg } from '../src/audio/index.ts';
import type { ModelInfo } from '../src/core/ports.ts';

/** The configured model, or the test fixture (flagged in every result) when no real model is installed. */
export function benchModelDir(configured: string): string {
  return existsSync(join(configured, 'manifest.json')) ? configured : 'test/fixtures/models/tiny';
}

export function machine(): { cores: number; cpu: string; node: string } {
  return { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.versions.node };
}

export function requireFfmpeg(): FfmpegLocation {
  const ffmpeg = locateFfmpeg(process.env);
  if (!ffmpeg) throw new Error('the benchmarks need ffmpeg to make their inputs (apt-get install ffmpeg)');
  return ffmpeg;
}

/** samples/hello.ogg looped to `seconds` and encoded with `codecArgs` into `path`; returns the bytes. */
export function loopedSample(seconds: number, codecArgs: readonly string[], path: string): Uint8Array {
  const ffmpeg = requireFfmpeg();
  execFileSync(ffmpeg.path, [
    ...['-loglevel', 'error', '-stream_loop', '-1', '-i', 'samples/hello.ogg', '-t', String(seconds)],
    ...codecArgs,
    path,
  ]);
  return new Uint8Array(readFileSync(path));
}

/** Nearest rank: with 10 runs, p95 is the slowest one. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

/** Which model a result was measured with (a fixture is flagged). */
export function modelUsed(dir: string, info: ModelInfo) {
  return { dir, id: info.id, version: info.version, device: info.device.kind, fixture: info.fixture };
}
