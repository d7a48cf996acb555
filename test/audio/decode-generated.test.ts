import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createAudioDecoder, type DecodePath } from '../../src/audio/index.ts';
import { LIMITS, rms } from './helpers.ts';

/** Rarer inputs, made by ffmpeg at test time (each well under 100 ms to encode). */
function ffmpegOutput(args: string[]): Uint8Array {
  return new Uint8Array(
    execFileSync('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', ...args, 'pipe:1'], {
      maxBuffer: 16 * 1024 * 1024,
    }),
  );
}

const warnings: string[] = [];
const paths: DecodePath[] = [];
const decoder = createAudioDecoder({
  logger: {
    debug: (obj) => paths.push((obj as { path: DecodePath }).path),
    warn: (_obj, msg) => warnings.push(msg),
  },
});

const TONE = ['-f', 'lavfi', '-i', 'sine=f=440:r=48000:d=2'];

describe('inputs generated at test time', () => {
  it('a Matroska video (H.264 + Opus) whose video CodecPrivate trips the in-process demuxer falls back to ffmpeg', async () => {
    const bytes = ffmpegOutput([
      ...['-f', 'lavfi', '-i', 'testsrc=s=32x24:r=2:d=2', ...TONE],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'libopus', '-shortest', '-f', 'matroska'],
    ]);
    const audio = await decoder.decode({ bytes }, { limits: LIMITS });
    expect(paths.at(-1)).toBe('ffmpeg');
    expect(warnings.at(-1)).toMatch(/trying ffmpeg/);
    expect(Math.abs(audio.samples.length / 16_000 - 2)).toBeLessThanOrEqual(0.02);
    expect(rms(audio.samples)).toBeGreaterThan(0.05);
  });

  it('a 5.1 Ogg/Opus file (multistream) is decoded by ffmpeg and downmixed', async () => {
    const bytes = ffmpegOutput([...TONE, '-ac', '6', '-c:a', 'libopus', '-f', 'ogg']);
    const audio = await decoder.decode({ bytes }, { limits: LIMITS });
    expect(paths.at(-1)).toBe('ffmpeg');
    expect(Math.abs(audio.samples.length / 16_000 - 2)).toBeLessThanOrEqual(0.02);
  });

  it('a µ-law WAV (not PCM) is handed to ffmpeg', async () => {
    const bytes = ffmpegOutput([...TONE, '-ar', '8000', '-c:a', 'pcm_mulaw', '-f', 'wav']);
    const audio = await decoder.decode({ bytes }, { limits: LIMITS });
    expect(paths.at(-1)).toBe('ffmpeg');
    expect(Math.abs(audio.samples.length / 16_000 - 2)).toBeLessThanOrEqual(0.02);
    expect(rms(audio.samples)).toBeGreaterThan(0.05);
  });

  it('a mono Ogg/Opus at 8 kHz input rate decodes in-process to the exact granule length', async () => {
    const bytes = ffmpegOutput([...TONE, '-ar', '8000', '-c:a', 'libopus', '-f', 'ogg']);
    const audio = await decoder.decode({ bytes }, { limits: LIMITS });
    expect(paths.at(-1)).toBe('ogg-opus');
    expect(Math.abs(audio.samples.length / 16_000 - 2)).toBeLessThanOrEqual(0.02);
  });
});
