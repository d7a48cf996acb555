import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAudioDecoder } from '../../src/audio/index.ts';
import type { ErrorCode } from '../../src/core/errors.ts';
import { AnnamalaiError } from '../../src/core/errors.ts';
import type { DecodeLimits } from '../../src/core/ports.ts';
import { fixture, LIMITS } from './helpers.ts';

const decoder = createAudioDecoder();

async function failure(
  bytes: Uint8Array,
  limits: Partial<DecodeLimits> = {},
  signal?: AbortSignal,
  dec = decoder,
): Promise<AnnamalaiError> {
  try {
    await dec.decode({ bytes }, { limits: { ...LIMITS, ...limits }, ...(signal ? { signal } : {}) });
  } catch (error) {
    expect(error).toBeInstanceOf(AnnamalaiError);
    return error as AnnamalaiError;
  }
  throw new Error('decode unexpectedly succeeded');
}

async function expectCode(bytes: Uint8Array, code: ErrorCode, limits: Partial<DecodeLimits> = {}) {
  const error = await failure(bytes, limits);
  expect(error.code).toBe(code);
  return error;
}

describe('empty input', () => {
  it('0 bytes fail with audio.empty', async () => {
    await expectCode(new Uint8Array(0), 'audio.empty');
  });

  it('an Ogg/Opus file with headers but no audio packets fails with audio.empty (0 samples)', async () => {
    // The first two pages (OpusHead, OpusTags) of the real opusenc file.
    const whole = fixture('speech-stereo.opus.ogg');
    const garbage = fixture('garbage-after-header.opus.ogg');
    let headerEnd = 0;
    while (whole[headerEnd] === garbage[headerEnd]) headerEnd++;
    const error = await expectCode(whole.subarray(0, headerEnd), 'audio.empty');
    expect(error.userMessage).toMatch(/no sound/);
  });
});

describe('not audio', () => {
  it('a PNG image fails with audio.unsupported and says it is an image', async () => {
    const error = await expectCode(fixture('image.png'), 'audio.unsupported');
    expect(error.userMessage).toMatch(/PNG image/);
  });

  it('a text file named .ogg fails with audio.unsupported', async () => {
    await expectCode(fixture('text-named-audio.ogg'), 'audio.unsupported');
  });

  it('a PDF fails with audio.unsupported', async () => {
    await expectCode(new TextEncoder().encode('%PDF-1.7\n%\xe2\xe3\n1 0 obj'), 'audio.unsupported');
  });

  it('unrecognised binary bytes fail with audio.unsupported without reaching ffmpeg', async () => {
    const bytes = new Uint8Array(4096).map((_, i) => (i * 7919 + 13) % 256);
    bytes[0] = 0;
    await expectCode(bytes, 'audio.unsupported');
  });
});

describe('damaged audio', () => {
  it('a truncated Ogg Opus file fails with audio.corrupt', async () => {
    await expectCode(fixture('truncated.opus.ogg'), 'audio.corrupt');
  });

  it('an Ogg Opus file with garbage after a valid header fails with audio.corrupt', async () => {
    await expectCode(fixture('garbage-after-header.opus.ogg'), 'audio.corrupt');
  });

  it('an Ogg Opus page with one flipped byte fails its CRC with audio.corrupt', async () => {
    const bytes = fixture('speech-stereo.opus.ogg').slice();
    bytes[5000] = (bytes[5000] ?? 0) ^ 0x55;
    const error = await expectCode(bytes, 'audio.corrupt');
    expect(String((error.cause as Error).message)).toMatch(/crc/i);
  });

  it('an M4A with garbage after its ftyp box fails with audio.corrupt (ffmpeg stderr kept as cause only)', async () => {
    const error = await expectCode(fixture('garbage-after-header.m4a'), 'audio.corrupt');
    expect(String((error.cause as Error).message)).toMatch(/moov atom not found/);
    expect(error.userMessage).not.toMatch(/moov|ffmpeg|pipe/);
  });

  it('an MP3 whose frames turn into garbage fails with audio.corrupt', async () => {
    const mp3 = fixture('speech.mp3');
    const noise = fixture('garbage-after-header.m4a').subarray(28);
    const bytes = new Uint8Array(1500 + noise.length * 2);
    bytes.set(mp3.subarray(0, 1500));
    bytes.set(noise, 1500);
    bytes.set(noise, 1500 + noise.length);
    await expectCode(bytes, 'audio.corrupt');
  });
});

describe('videos', () => {
  it('an MP4 video without an audio track fails with audio.no_audio_track', async () => {
    await expectCode(fixture('video-no-audio.mp4'), 'audio.no_audio_track');
  });

  it('a WebM video without an audio track fails with audio.no_audio_track', async () => {
    await expectCode(fixture('video-no-audio.webm'), 'audio.no_audio_track');
  });
});

describe('limits', () => {
  it('a file over maxBytes fails with audio.too_large before any decoding', async () => {
    const error = await expectCode(fixture('speech.mp3'), 'audio.too_large', { maxBytes: 10_000 });
    expect(error.userMessage).toMatch(/limit is 10 KB/);
  });

  it('an Ogg/Opus file longer than the limit fails with audio.too_long from its last granule position', async () => {
    const error = await expectCode(fixture('speech-stereo.opus.ogg'), 'audio.too_long', {
      maxDurationSeconds: 2,
    });
    expect(error.userMessage).toMatch(/limit is 2 s/);
  });

  it('a WAV longer than the limit fails with audio.too_long from its header', async () => {
    await expectCode(fixture('speech-s16-44k-stereo.wav'), 'audio.too_long', { maxDurationSeconds: 1 });
  });

  it('a WebM/Opus file fails with audio.too_long while decoding (no duration in the header)', async () => {
    await expectCode(fixture('speech.webm'), 'audio.too_long', { maxDurationSeconds: 2 });
  });

  it('an MP3 fails with audio.too_long while ffmpeg streams (samples counted)', async () => {
    await expectCode(fixture('speech.mp3'), 'audio.too_long', { maxDurationSeconds: 2 });
  });

  it('a recording exactly at the limit is accepted', async () => {
    const audio = await decoder.decode(
      { bytes: fixture('speech-f32-16k.wav') },
      { limits: { ...LIMITS, maxDurationSeconds: 2 } },
    );
    expect(audio.samples.length).toBe(32_000);
  });
});

describe('an 11-minute recording (generated at test time, 12 kbit/s AAC, index after the data)', () => {
  let dir: string;
  let long: Uint8Array;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'annamalai-audio-'));
    const file = path.join(dir, 'long.m4a');
    execFileSync('ffmpeg', [
      ...['-nostdin', '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=f=300:r=8000:d=660'],
      ...['-c:a', 'aac', '-b:a', '12k', file],
    ]);
    long = new Uint8Array(readFileSync(file));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails with audio.too_long under the default 10-minute limit, counted while decoding', async () => {
    await expectCode(long, 'audio.too_long', { maxDurationSeconds: 600 });
  });

  it('decodes completely when the limit allows it (the moov-first rewrite makes it readable from a pipe)', async () => {
    const audio = await decoder.decode({ bytes: long }, { limits: { ...LIMITS, maxDurationSeconds: 700 } });
    expect(Math.abs(audio.samples.length / 16_000 - 660)).toBeLessThan(0.1);
  });

  it('ffmpeg is killed with decoder.timeout when the wall-clock budget runs out', async () => {
    await expectCode(long, 'decoder.timeout', { timeoutMs: 100, maxDurationSeconds: 700 });
  });

  it('stops with aborted when the signal fires while ffmpeg runs', async () => {
    const controller = new AbortController();
    const pending = failure(long, { maxDurationSeconds: 700 }, controller.signal);
    setImmediate(() => controller.abort());
    expect((await pending).code).toBe('aborted');
  });
});

describe('timeouts and aborts on the in-process paths', () => {
  it('an already aborted signal fails with aborted before any work', async () => {
    const controller = new AbortController();
    controller.abort();
    expect((await failure(fixture('speech.mp3'), {}, controller.signal)).code).toBe('aborted');
  });

  it('in-process Opus decoding stops with aborted when the signal fires mid-way', async () => {
    const controller = new AbortController();
    const pending = failure(fixture('speech-stereo.opus.ogg'), {}, controller.signal);
    setImmediate(() => controller.abort());
    expect((await pending).code).toBe('aborted');
  });

  it('in-process decoding with no time budget left fails with decoder.timeout', async () => {
    await expectCode(fixture('speech-s24-48k.wav'), 'decoder.timeout', { timeoutMs: 0 });
    await expectCode(fixture('speech.webm'), 'decoder.timeout', { timeoutMs: 0 });
  });
});

describe('no ffmpeg installed', () => {
  const bare = createAudioDecoder({ env: { PATH: '/nonexistent' } });

  it('MP3 fails with decoder.missing naming what to install', async () => {
    const error = await failure(fixture('speech.mp3'), {}, undefined, bare);
    expect(error.code).toBe('decoder.missing');
    expect(error.message).toMatch(/apt-get install ffmpeg/);
    expect(error.message).toMatch(/FFMPEG_PATH/);
  });

  it('Ogg/Opus, WebM/Opus and WAV still decode in-process', async () => {
    for (const name of ['speech-stereo.opus.ogg', 'speech.webm', 'speech-s16-44k-stereo.wav']) {
      const audio = await bare.decode({ bytes: fixture(name) }, { limits: LIMITS });
      expect(audio.samples.length).toBeGreaterThan(16_000);
    }
  });

  it('a damaged Ogg/Opus still fails with audio.corrupt, not decoder.missing', async () => {
    const error = await failure(fixture('truncated.opus.ogg'), {}, undefined, bare);
    expect(error.code).toBe('audio.corrupt');
  });
});
