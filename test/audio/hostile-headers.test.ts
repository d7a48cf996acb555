import { describe, expect, it } from 'vitest';
import { DecodeGuard } from '../../src/audio/guard.ts';
import { createAudioDecoder } from '../../src/audio/index.ts';
import { moovFirst } from '../../src/audio/mp4.ts';
import { pageCrc } from '../../src/audio/ogg.ts';
import { planResample, resample } from '../../src/audio/resample.ts';
import { AnnamalaiError, type ErrorCode } from '../../src/core/errors.ts';
import { fixture, LIMITS, makeWav, peak, rms, sineFrames } from './helpers.ts';

// No ffmpeg: every refusal below must come from the in-process checks, never from a hand-over.
const decoder = createAudioDecoder({ ffmpeg: null });

async function refusal(bytes: Uint8Array): Promise<AnnamalaiError> {
  try {
    await decoder.decode({ bytes }, { limits: LIMITS });
  } catch (error) {
    expect(error).toBeInstanceOf(AnnamalaiError);
    return error as AnnamalaiError;
  }
  throw new Error('decode unexpectedly succeeded');
}

async function expectRefused(bytes: Uint8Array, code: ErrorCode, detail: RegExp): Promise<void> {
  const error = await refusal(bytes);
  expect(error.code).toBe(code);
  expect(error.message).toMatch(detail);
}

/** 4 KB of 16-bit mono samples: the size of the file that once took 23.5 GB to "decode". */
const SMALL_DATA = sineFrames(2048, 1, 16_000, 440, 2, (v, at, x) =>
  v.setInt16(at, Math.round(x * 32767), true),
);

function wav(overrides: Partial<Parameters<typeof makeWav>[0]> = {}): Uint8Array {
  return makeWav({
    formatTag: 1,
    channels: 1,
    sampleRate: 16_000,
    bitsPerSample: 16,
    data: SMALL_DATA,
    ...overrides,
  });
}

describe('WAV headers are bounded before anything is allocated', () => {
  for (const sampleRate of [4_294_967_295, 1_000_000, 2_000_000, 4_000_000, 384_001, 999]) {
    it(`a ${sampleRate} Hz rate is refused with audio.unsupported naming the rate`, async () => {
      await expectRefused(
        wav({ sampleRate }),
        'audio.unsupported',
        new RegExp(`sample rate ${sampleRate} Hz`),
      );
    });
  }

  it('the bounds themselves (1 kHz and 384 kHz) still decode', async () => {
    for (const sampleRate of [1_000, 384_000]) {
      const audio = await decoder.decode({ bytes: wav({ sampleRate }) }, { limits: LIMITS });
      expect(audio.samples.length).toBe(Math.floor((2048 * 16_000) / sampleRate));
    }
  });

  it('0 channels is audio.corrupt, 65 535 channels is audio.unsupported', async () => {
    await expectRefused(wav({ channels: 0, blockAlign: 2 }), 'audio.corrupt', /zero channels/);
    await expectRefused(wav({ channels: 65_535, blockAlign: 2 }), 'audio.unsupported', /65535 channels/);
  });

  it('0 bits is audio.corrupt; 7-bit and 64-bit integer samples are audio.unsupported', async () => {
    await expectRefused(wav({ bitsPerSample: 0, blockAlign: 2 }), 'audio.corrupt', /0 bits/);
    await expectRefused(wav({ bitsPerSample: 7, blockAlign: 1 }), 'audio.unsupported', /7-bit integer/);
    await expectRefused(wav({ bitsPerSample: 64 }), 'audio.unsupported', /64-bit integer/);
  });

  it('a block align that is not channels × bytes per sample is audio.corrupt', async () => {
    await expectRefused(wav({ channels: 2, blockAlign: 3 }), 'audio.corrupt', /block align 3/);
  });

  it('an fmt chunk claiming more bytes than the file holds is audio.corrupt', async () => {
    await expectRefused(wav({ declaredFmtSize: 0x7fff_ffff }), 'audio.corrupt', /fmt chunk claims/);
  });

  it('a header cut inside the fmt chunk is audio.corrupt', async () => {
    const whole = wav();
    for (const length of [20, 30]) {
      await expectRefused(whole.subarray(0, length), 'audio.corrupt', /WAV: fmt chunk/);
    }
  });

  it('thousands of empty chunks before fmt are audio.corrupt, not a walk of the whole file', async () => {
    const body = wav();
    const junk = new Uint8Array(2000 * 8);
    for (let i = 0; i < 2000; i++) junk.set([0x6a, 0x75, 0x6e, 0x6b], i * 8); // 'junk', size 0
    const bytes = new Uint8Array(body.length + junk.length);
    bytes.set(body.subarray(0, 12));
    bytes.set(junk, 12);
    bytes.set(body.subarray(12), 12 + junk.length);
    await expectRefused(bytes, 'audio.corrupt', /more than 1024 chunks/);
  });

  it('a data chunk declaring 0xFFFFFFFF bytes (a streaming writer) decodes only the bytes present', async () => {
    const audio = await decoder.decode({ bytes: wav({ declaredDataSize: 0xffff_ffff }) }, { limits: LIMITS });
    expect(audio.samples.length).toBe(2048);
  });

  it('the same 0xFFFFFFFF data chunk with a 4 GHz rate is still refused by its rate', async () => {
    const bytes = wav({ declaredDataSize: 0xffff_ffff, sampleRate: 4_294_967_295 });
    await expectRefused(bytes, 'audio.unsupported', /sample rate/);
  });
});

describe('the resampler sizes its work from the two rates before allocating', () => {
  it('refuses a ratio past 64:1 with audio.unsupported, whoever calls it', () => {
    expect(() => planResample(4_294_967_295, 16_000)).toThrow(/exceeds the 64:1 bound/);
    expect(() => planResample(1_100_000, 16_000)).toThrow(AnnamalaiError);
  });

  it('keeps the phase table within 2^20 taps for rates with a tiny common divisor', () => {
    const plan = planResample(383_999, 16_000);
    expect(plan.up).toBe(16_000);
    expect(plan.phases).toBeLessThan(plan.up);
    expect(plan.phases * plan.taps).toBeLessThanOrEqual(2 ** 20);
    expect(planResample(44_100, 16_000).phases).toBe(160); // common rates keep the exact table
  });

  it('with the nearest-phase table, a 47 999 Hz tone still lands on the 16 kHz grid', async () => {
    const from = 47_999;
    const input = new Float32Array(from);
    for (let i = 0; i < input.length; i++) input[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / from);
    expect(planResample(from, 16_000).phases).toBeLessThan(16_000);
    const out = await resample(input, from, 16_000);
    let worst = 0;
    for (let n = 1000; n < out.length - 1000; n++) {
      worst = Math.max(worst, Math.abs((out[n] ?? 0) - 0.5 * Math.sin((2 * Math.PI * 440 * n) / 16_000)));
    }
    expect(worst).toBeLessThan(0.01);
  });

  it('refuses an output longer than the duration budget before allocating it', async () => {
    const guard = new DecodeGuard({ timeoutMs: 60_000, maxDurationSeconds: 1, sampleRate: 16_000 });
    await expect(resample(new Float32Array(16_000), 8_000, 16_000, guard)).rejects.toMatchObject({
      code: 'audio.too_long',
    });
  });
});

/** The Ogg/Opus fixture with its first page (the OpusHead) edited and its CRC fixed, so only the edit is wrong. */
function editedOpus(edit: (bytes: Uint8Array, view: DataView, lastPage: number) => void): Uint8Array {
  const bytes = new Uint8Array(fixture('speech-stereo.opus.ogg'));
  const view = new DataView(bytes.buffer);
  const pages: number[] = [];
  for (let at = 0; at < bytes.length; ) {
    pages.push(at);
    const segments = view.getUint8(at + 26);
    let body = 0;
    for (let i = 0; i < segments; i++) body += view.getUint8(at + 27 + i);
    at += 27 + segments + body;
  }
  edit(bytes, view, pages.at(-1) ?? 0);
  for (const [i, at] of pages.entries()) {
    const end = pages[i + 1] ?? bytes.length;
    view.setUint32(at + 22, pageCrc(bytes, at, end), true);
  }
  return bytes;
}

describe('Ogg/Opus headers are bounded before decoding', () => {
  const OPUS_HEAD = 28; // the first page has one segment: the OpusHead packet starts at 27 + 1

  it('the edit helper leaves a decodable file when it changes nothing', async () => {
    const audio = await decoder.decode({ bytes: editedOpus(() => {}) }, { limits: LIMITS });
    expect(rms(audio.samples)).toBeGreaterThan(0.01);
  });

  it('an OpusHead with 0 channels is audio.corrupt', async () => {
    const bytes = editedOpus((b) => {
      b[OPUS_HEAD + 9] = 0;
    });
    await expectRefused(bytes, 'audio.corrupt', /bad-opus-head: 0 channels/);
  });

  it('255 channels with mapping family 0 (at most 2) is audio.corrupt', async () => {
    const bytes = editedOpus((b) => {
      b[OPUS_HEAD + 9] = 255;
    });
    await expectRefused(bytes, 'audio.corrupt', /255 channels with mapping family 0/);
  });

  it('a last granule position of 2^62 is audio.corrupt (more than its packets can hold), not audio.too_long', async () => {
    const bytes = editedOpus((_, view, last) => view.setBigInt64(last + 6, 2n ** 62n, true));
    await expectRefused(bytes, 'audio.corrupt', /bad-granule/);
  });
});

describe('MP4 box walk is bounded', () => {
  it('a moov nested 100 000 deep after mdat is left for ffmpeg unchanged, without a stack overflow', () => {
    const depth = 100_000;
    const mdat = [0, 0, 0, 8, 0x6d, 0x64, 0x61, 0x74];
    const bytes = new Uint8Array(mdat.length + depth * 8);
    bytes.set(mdat);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < depth; i++) {
      const at = mdat.length + i * 8;
      view.setUint32(at, bytes.length - at);
      bytes.set([0x6d, 0x6f, 0x6f, 0x76], at + 4); // 'moov'
    }
    expect(moovFirst(bytes)).toBe(bytes);
  });
});

describe('one refused file fails only itself', () => {
  it('after a 4 GHz bomb is refused, the same decoder decodes the next file', async () => {
    await expectRefused(wav({ sampleRate: 4_294_967_295 }), 'audio.unsupported', /sample rate/);
    const audio = await decoder.decode({ bytes: wav() }, { limits: LIMITS });
    expect(peak(audio.samples)).toBeCloseTo(0.5, 1);
  });
});
