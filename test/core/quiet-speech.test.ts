// End to end through analyzeRecording with the real decoder and the fixture ONNX model: quiet speech in
// Ogg Opus (as a phone far from the mouth sends it) is analysed; comfort noise, room noise and hum are not.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAudioDecoder, locateFfmpeg } from '../../src/audio/index.ts';
import { analyzeRecording } from '../../src/core/analyze.ts';
import type { DecodeLimits, EmotionClassifier } from '../../src/core/ports.ts';
import { createOnnxClassifier } from '../../src/inference/index.ts';

const limits: DecodeLimits = { maxBytes: 5e6, maxDurationSeconds: 600, timeoutMs: 30_000 };
const context = { platform: 'cli', userId: 'u1', channelId: 'c1' };
const SPEECH = 'test/fixtures/audio/speech.flac';

/** ffmpeg renders a filter graph into a 24 kbit/s Ogg Opus voice message with DTX (comfort noise in pauses). */
function opus(inputs: readonly string[], graph: string): Uint8Array {
  const ffmpeg = locateFfmpeg(process.env);
  if (!ffmpeg) throw new Error('these tests need ffmpeg (apt-get install ffmpeg)');
  // biome-ignore format: ffmpeg's arguments read best on one line
  const args = ['-nostdin', '-loglevel', 'error', ...inputs, '-filter_complex', graph, '-ac', '1', '-c:a', 'libopus', '-b:a', '24k', '-dtx', '1', '-application', 'voip', '-f', 'ogg', 'pipe:1'];
  return new Uint8Array(execFileSync(ffmpeg.path, args));
}
const lavfi = (source: string) => ['-f', 'lavfi', '-t', '6', '-i', source];

describe('quiet speech and speech-free recordings end to end', () => {
  let classifier: EmotionClassifier;
  const decoder = createAudioDecoder({ env: process.env });
  beforeAll(async () => {
    classifier = await createOnnxClassifier({
      modelDir: 'test/fixtures/models/tiny',
      device: 'cpu',
      workers: 1,
      threadsPerWorker: 1,
    });
  });
  afterAll(async () => {
    await classifier.close();
  });
  const analyze = (bytes: Uint8Array) =>
    analyzeRecording({ decoder, classifier, limits }, { bytes, name: 'voice-message.ogg' }, context);

  // The fixture peaks at −1.8 dBFS: −40 dB and −55 dB put it where the old −45 dBFS frame gate heard
  // nothing (peaks at −42 and −57 dBFS: a RAVDESS take at −35 dBFS peak, 20 dB further away).
  it.each([-20, -30, -40, -55])(
    'analyses the fixture speech %i dB quieter as speech, with no note about silence',
    async (db) => {
      const result = await analyze(opus(['-i', SPEECH], `[0:a]volume=${db}dB`));
      expect(result.status).toBe('ok');
      if (result.status !== 'ok') return;
      expect(result.segments.map((s) => s.kind)).toEqual(['speech']);
      expect(result.summary.dominant).not.toBeNull();
      expect(result.summary.notes.filter((n) => /silent/.test(n))).toEqual([]);
    },
  );

  it('hears quiet speech, then calls the comfort noise after it silence and says so in the summary', async () => {
    const result = await analyze(opus(['-i', SPEECH], '[0:a]volume=-30dB,apad=whole_dur=10'));
    expect(result.status === 'ok' && result.segments.map((s) => s.kind)).toEqual(['speech', 'silence']);
    if (result.status !== 'ok') return;
    expect(result.summary.speechSegments).toBe(1);
    expect(result.summary.silentSegments).toBe(1);
    expect(result.summary.notes).toContain('1 of 2 segments were silent and were not analysed for emotion.');
  });

  it.each([
    ['Opus comfort noise (DTX over digital silence)', lavfi('anullsrc=r=48000:cl=mono'), '[0:a]anull'],
    ['room noise at −50 dBFS', lavfi('anoisesrc=r=48000:c=pink:a=0.01:seed=3'), '[0:a]anull'],
    [
      'brown rumble at about −40 dBFS (the old gate called it voiced)',
      lavfi('anoisesrc=r=48000:c=brown:a=0.03:seed=4'),
      '[0:a]anull',
    ],
    [
      '50-Hz hum at −33 dBFS (the old gate called it voiced)',
      lavfi('sine=f=50:r=48000'),
      '[0:a]volume=-12dB',
    ],
  ])('refuses %s as silent without calling the model', async (_, inputs, graph) => {
    const result = await analyze(opus(inputs, graph));
    expect(result.status === 'failed' && result.error.code).toBe('audio.silent');
  });
});
