import { describe, expect, it } from 'vitest';
import { ffmpegArgs, type LocateDependencies } from '../../src/audio/ffmpeg.ts';
import { createAudioDecoder, decoderDiagnostics, locateFfmpeg, sniff } from '../../src/audio/index.ts';
import { moovFirst } from '../../src/audio/mp4.ts';
import { resample } from '../../src/audio/resample.ts';
import { SAMPLE_RATE } from '../../src/core/audio.ts';
import { fixture, LIMITS, makeWav, peak, rms, sineFrames } from './helpers.ts';

describe('sniff: the bytes decide the container', () => {
  it.each([
    ['speech-stereo.opus.ogg', { kind: 'ogg', codec: 'opus' }],
    ['speech.vorbis.ogg', { kind: 'ogg', codec: 'vorbis' }],
    ['speech.webm', { kind: 'matroska', opus: true }],
    ['video-no-audio.webm', { kind: 'matroska', opus: false }],
    ['speech-s24-48k.wav', { kind: 'wav' }],
    ['speech.flac', { kind: 'flac' }],
    ['speech.mp3', { kind: 'mp3' }],
    ['speech.m4a', { kind: 'mp4' }],
    ['video-with-speech.mp4', { kind: 'mp4' }],
    ['image.png', { kind: 'not-audio', what: 'a PNG image' }],
    ['text-named-audio.ogg', { kind: 'not-audio', what: 'a text file' }],
  ])('%s is %o', (name, expected) => {
    expect(sniff(fixture(name))).toEqual(expected);
  });

  it('recognises Ogg FLAC, ADTS AAC, bare MP3 frames, JPEG and PDF', () => {
    const ogg = new Uint8Array(40);
    ogg.set([0x4f, 0x67, 0x67, 0x53]);
    ogg[26] = 1;
    ogg.set([0x7f, 0x46, 0x4c, 0x41, 0x43], 28);
    expect(sniff(ogg)).toEqual({ kind: 'ogg', codec: 'flac' });
    expect(sniff(new Uint8Array([0xff, 0xf1, 0x50, 0x80, 0, 0]))).toEqual({ kind: 'adts' });
    expect(sniff(new Uint8Array([0xff, 0xfb, 0x90, 0x64, 0, 0]))).toEqual({ kind: 'mp3' });
    expect(sniff(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0]))).toEqual({
      kind: 'not-audio',
      what: 'a JPEG image',
    });
    expect(sniff(new TextEncoder().encode('%PDF-1.4'))).toEqual({
      kind: 'not-audio',
      what: 'a PDF document',
    });
  });
});

describe('resample: band-limited, no drift', () => {
  it('keeps a 1 kHz tone at 44.1 kHz → 16 kHz at full level and the right length', async () => {
    const n = 44_100;
    const input = new Float32Array(n).map((_, i) => 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 44_100));
    const out = await resample(input, 44_100, SAMPLE_RATE);
    expect(out.length).toBe(16_000);
    const middle = out.subarray(1000, 15_000);
    expect(rms(middle)).toBeCloseTo(0.5 / Math.SQRT2, 2);
    // Zero crossings of a 1 kHz tone over 14 000 samples (0.875 s): 1750.
    let crossings = 0;
    for (let i = 1; i < middle.length; i++)
      if ((middle[i - 1] ?? 0) < 0 !== (middle[i] ?? 0) < 0) crossings++;
    expect(Math.abs(crossings - 1750)).toBeLessThanOrEqual(2);
  });

  it('suppresses a 10 kHz tone (above the 8 kHz Nyquist) by more than 60 dB instead of aliasing it', async () => {
    const input = new Float32Array(48_000).map((_, i) => 0.5 * Math.sin((2 * Math.PI * 10_000 * i) / 48_000));
    const out = await resample(input, 48_000, SAMPLE_RATE);
    const level = rms(out.subarray(1000, 15_000)) / (0.5 / Math.SQRT2);
    expect(20 * Math.log10(level)).toBeLessThan(-60);
  });

  it('upsamples 8 kHz telephone audio to 16 kHz', async () => {
    const input = new Float32Array(8000).map((_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / 8000));
    const out = await resample(input, 8000, SAMPLE_RATE);
    expect(out.length).toBe(16_000);
    expect(rms(out.subarray(1000, 15_000))).toBeCloseTo(0.5 / Math.SQRT2, 2);
  });
});

describe('in-process WAV: every sample format, any channel count', () => {
  const decoder = createAudioDecoder({ ffmpeg: null });
  const rate = 16_000;
  const formats = [
    {
      what: 'unsigned 8-bit',
      tag: 1,
      bits: 8,
      write: (v: DataView, at: number, x: number) => v.setUint8(at, Math.round(x * 127) + 128),
    },
    {
      what: 'signed 32-bit',
      tag: 1,
      bits: 32,
      write: (v: DataView, at: number, x: number) => v.setInt32(at, Math.round(x * 2 ** 31), true),
    },
    {
      what: 'float64',
      tag: 3,
      bits: 64,
      write: (v: DataView, at: number, x: number) => v.setFloat64(at, x, true),
    },
  ];
  for (const f of formats) {
    it(`${f.what}, 3 channels, WAVE_FORMAT_EXTENSIBLE → a 0.5-amplitude mono tone`, async () => {
      const data = sineFrames(rate, 3, rate, 440, f.bits / 8, f.write);
      const bytes = makeWav({
        formatTag: f.tag,
        channels: 3,
        sampleRate: rate,
        bitsPerSample: f.bits,
        extensible: true,
        data,
      });
      const audio = await decoder.decode({ bytes }, { limits: LIMITS });
      expect(audio.samples.length).toBe(rate);
      expect(peak(audio.samples)).toBeCloseTo(0.5, 1);
    });
  }

  it('a WAV cut short (declared size past the end) decodes the frames that are there', async () => {
    const data = sineFrames(8000, 1, rate, 440, 2, (v, at, x) => v.setInt16(at, Math.round(x * 32767), true));
    const bytes = makeWav({
      formatTag: 1,
      channels: 1,
      sampleRate: rate,
      bitsPerSample: 16,
      data,
      declaredDataSize: 64_000,
    });
    const audio = await decoder.decode({ bytes }, { limits: LIMITS });
    expect(audio.samples.length).toBe(8000);
  });

  it('a WAV with a header and no samples fails with audio.empty', async () => {
    const bytes = makeWav({
      formatTag: 1,
      channels: 1,
      sampleRate: rate,
      bitsPerSample: 16,
      data: new Uint8Array(0),
    });
    await expect(decoder.decode({ bytes }, { limits: LIMITS })).rejects.toMatchObject({
      code: 'audio.empty',
    });
  });

  it('float samples outside [-1, 1] are clamped', async () => {
    const data = sineFrames(rate, 1, rate, 440, 4, (v, at, x) => v.setFloat32(at, x * 4, true));
    const bytes = makeWav({ formatTag: 3, channels: 1, sampleRate: rate, bitsPerSample: 32, data });
    const audio = await decoder.decode({ bytes }, { limits: LIMITS });
    expect(peak(audio.samples)).toBe(1);
  });
});

describe('MP4 index moved before the data for pipe input', () => {
  function topLevel(bytes: Uint8Array): string[] {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const types: string[] = [];
    for (let at = 0; at + 8 <= bytes.length; at += view.getUint32(at)) {
      types.push(String.fromCharCode(...bytes.subarray(at + 4, at + 8)));
    }
    return types;
  }

  it('moves moov before mdat, keeps the size, and leaves faststart files alone', () => {
    const original = fixture('speech.m4a');
    expect(topLevel(original)).toEqual(['ftyp', 'free', 'mdat', 'moov']);
    const fixed = moovFirst(original);
    expect(topLevel(fixed)).toEqual(['ftyp', 'free', 'moov', 'mdat']);
    expect(fixed.length).toBe(original.length);
    expect(moovFirst(fixed)).toBe(fixed);
  });

  it('rewrites a Buffer that is a view into a larger allocation (as fs and sockets hand them over) and leaves it intact', async () => {
    const original = fixture('speech.m4a');
    const arena = Buffer.alloc(original.length + 100);
    arena.set(original, 50);
    const view = arena.subarray(50, 50 + original.length);
    const fixed = moovFirst(view);
    expect(topLevel(fixed)).toEqual(['ftyp', 'free', 'moov', 'mdat']);
    expect(Buffer.from(view).equals(Buffer.from(original))).toBe(true);
    const decoded = await createAudioDecoder().decode({ bytes: view }, { limits: LIMITS });
    expect(decoded.samples.length / SAMPLE_RATE).toBeGreaterThan(3);
  });
});

describe('locating ffmpeg', () => {
  const deps = (executables: string[], ffmpegStatic: string | null = null): LocateDependencies => ({
    ffmpegStatic: () => ffmpegStatic,
    isExecutable: (file) => executables.includes(file),
    platform: 'linux',
  });

  it('prefers FFMPEG_PATH, then ffmpeg-static with its binary, then PATH', () => {
    const all = ['/opt/ff', '/nm/ffmpeg-static/ffmpeg', '/usr/bin/ffmpeg'];
    const env = { FFMPEG_PATH: '/opt/ff', PATH: '/usr/local/bin:/usr/bin' };
    expect(locateFfmpeg(env, deps(all, '/nm/ffmpeg-static/ffmpeg'))).toEqual({
      path: '/opt/ff',
      source: 'FFMPEG_PATH',
    });
    expect(locateFfmpeg({ PATH: env.PATH }, deps(all, '/nm/ffmpeg-static/ffmpeg'))).toEqual({
      path: '/nm/ffmpeg-static/ffmpeg',
      source: 'ffmpeg-static',
    });
    expect(locateFfmpeg({ PATH: env.PATH }, deps(all))).toEqual({ path: '/usr/bin/ffmpeg', source: 'PATH' });
  });

  it('skips ffmpeg-static when the package is present but its binary was never downloaded', () => {
    expect(locateFfmpeg({ PATH: '/usr/bin' }, deps(['/usr/bin/ffmpeg'], '/nm/ffmpeg-static/ffmpeg'))).toEqual(
      {
        path: '/usr/bin/ffmpeg',
        source: 'PATH',
      },
    );
  });

  it('returns null with no FFMPEG_PATH and a PATH without ffmpeg', () => {
    expect(locateFfmpeg({ PATH: '/nowhere:/empty' }, deps([]))).toBeNull();
  });

  it('finds the real ffmpeg on this machine', () => {
    expect(locateFfmpeg(process.env)?.path).toMatch(/ffmpeg$/);
  });

  it('runs ffmpeg sandboxed: stdin only, pipe protocol only, named demuxer, audio only, capped duration', () => {
    const args = ffmpegArgs('mov', 600).join(' ');
    expect(args).toContain('-protocol_whitelist pipe');
    expect(args).toContain('-f mov -i pipe:0');
    expect(args).toContain('-vn -sn -dn -ac 1 -ar 16000');
    expect(args).toContain('-t 601');
    expect(args).toMatch(/-f f32le pipe:1$/);
    expect(args).toContain('-nostdin');
  });
});

describe('decoder diagnostics', () => {
  it('reports in-process Opus, the ffmpeg path, source and version', async () => {
    const d = await decoderDiagnostics();
    expect(d.inProcess.opus).toEqual({ available: true, library: 'opusscript' });
    expect(d.ffmpeg).toMatchObject({
      available: true,
      source: 'PATH',
      version: expect.stringMatching(/^ffmpeg version/),
    });
    expect(d.formats).toContain('MP3');
  });

  it('explains how to install ffmpeg when there is none', async () => {
    const d = await decoderDiagnostics({ env: { PATH: '/nowhere' } });
    expect(d.ffmpeg).toMatchObject({
      available: false,
      hint: expect.stringMatching(/apt-get install ffmpeg/),
    });
    expect(d.formats).toEqual(['WAV (PCM/float)', 'Ogg/Opus', 'WebM/Opus']);
  });
});
