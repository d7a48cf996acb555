import { beforeAll, describe, expect, it } from 'vitest';
import { createAudioDecoder, type DecodePath } from '../../src/audio/index.ts';
import { SAMPLE_RATE } from '../../src/core/audio.ts';
import { envelopeSimilarity, fixture, LIMITS, peak, rms, SPEECH_SECONDS, WAV_SECONDS } from './helpers.ts';

const paths: DecodePath[] = [];
const decoder = createAudioDecoder({
  logger: { debug: (obj) => paths.push((obj as { path: DecodePath }).path), warn: () => {} },
});

async function decode(name: string) {
  const audio = await decoder.decode({ bytes: fixture(name), name }, { limits: LIMITS });
  return { audio, path: paths.at(-1) };
}

/** Lossless reference: the FLAC fixture (whole utterance) decoded to 16 kHz. */
let reference: Float32Array;
beforeAll(async () => {
  reference = (await decode('speech.flac')).audio.samples;
});

const cases: { file: string; what: string; path: DecodePath; seconds: number }[] = [
  {
    file: 'speech-stereo.opus.ogg',
    what: 'Ogg/Opus 48 kHz stereo (Discord)',
    path: 'ogg-opus',
    seconds: SPEECH_SECONDS,
  },
  { file: 'speech.webm', what: 'WebM/Opus (Slack)', path: 'webm-opus', seconds: SPEECH_SECONDS },
  {
    file: 'speech.m4a',
    what: 'M4A/AAC 44.1 kHz, index after the data',
    path: 'ffmpeg',
    seconds: SPEECH_SECONDS,
  },
  { file: 'speech.mp3', what: 'MP3', path: 'ffmpeg', seconds: SPEECH_SECONDS },
  { file: 'speech.flac', what: 'FLAC', path: 'ffmpeg', seconds: SPEECH_SECONDS },
  { file: 'speech.vorbis.ogg', what: 'Ogg/Vorbis', path: 'ffmpeg', seconds: SPEECH_SECONDS },
  {
    file: 'video-with-speech.mp4',
    what: 'an MP4 video with an AAC track',
    path: 'ffmpeg',
    seconds: SPEECH_SECONDS,
  },
  {
    file: 'speech-s16-44k-stereo.wav',
    what: 'WAV 16-bit 44.1 kHz stereo',
    path: 'wav',
    seconds: WAV_SECONDS,
  },
  { file: 'speech-f32-16k.wav', what: 'WAV float32 16 kHz', path: 'wav', seconds: WAV_SECONDS },
  {
    file: 'speech-s24-48k.wav',
    what: 'WAV 24-bit 48 kHz (WAVE_FORMAT_EXTENSIBLE)',
    path: 'wav',
    seconds: WAV_SECONDS,
  },
];

describe('every supported format decodes to the same speech at 16 kHz mono', () => {
  for (const c of cases) {
    it(`${c.what} decodes via ${c.path} to ${c.seconds.toFixed(2)} s of the speech`, async () => {
      const { audio, path } = await decode(c.file);
      expect(path).toBe(c.path);
      expect(audio.sampleRate).toBe(SAMPLE_RATE);
      expect(audio.samples).toBeInstanceOf(Float32Array);
      expect(Math.abs(audio.samples.length / SAMPLE_RATE - c.seconds)).toBeLessThanOrEqual(0.02);
      expect(peak(audio.samples)).toBeLessThanOrEqual(1);
      expect(rms(audio.samples)).toBeGreaterThan(0.03);
      expect(envelopeSimilarity(audio.samples, reference)).toBeGreaterThan(0.95);
    });
  }

  it('the similarity measure tells different speech apart (reversed reference scores low)', () => {
    const reversed = reference.slice().reverse();
    expect(envelopeSimilarity(reversed, reference)).toBeLessThan(0.6);
  });

  it('the in-process WAV resampler and ffmpeg agree sample by sample (48 kHz 24-bit vs FLAC)', async () => {
    const { audio } = await decode('speech-s24-48k.wav');
    const n = 16_000;
    let diff = 0;
    let energy = 0;
    // Skip the first 50 ms (filter start-up differs); compare 1 s.
    for (let i = 800; i < 800 + n; i++) {
      diff += ((audio.samples[i] ?? 0) - (reference[i] ?? 0)) ** 2;
      energy += (reference[i] ?? 0) ** 2;
    }
    // Better than 20 dB signal-to-difference: same waveform, not just the same loudness contour.
    expect(10 * Math.log10(energy / diff)).toBeGreaterThan(20);
  });

  it('Ogg/Opus and WebM/Opus keep the stereo downmix level (right channel at half level → 0.75 × left)', async () => {
    const ogg = (await decode('speech-stereo.opus.ogg')).audio.samples;
    const ratio = rms(ogg) / rms(reference);
    expect(ratio).toBeGreaterThan(0.7);
    expect(ratio).toBeLessThan(0.8);
  });

  it('a silent WAV decodes to 1 s of zeros (judging silence is the pipeline’s job)', async () => {
    const { audio } = await decode('silence-1s.wav');
    expect(audio.samples.length).toBe(SAMPLE_RATE);
    expect(peak(audio.samples)).toBe(0);
  });

  it('the content type and file name do not matter: the bytes decide', async () => {
    const audio = await decoder.decode(
      { bytes: fixture('speech.m4a'), name: 'clip.webm', contentType: 'video/webm' },
      { limits: LIMITS },
    );
    expect(Math.abs(audio.samples.length / SAMPLE_RATE - SPEECH_SECONDS)).toBeLessThanOrEqual(0.02);
  });
});
