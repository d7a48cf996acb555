import { describe, expect, it } from 'vitest';
import { SEGMENT_SAMPLES } from '../../src/core/audio.ts';
import { segment } from '../../src/core/segments.ts';
import { ABSOLUTE_MIN_DBFS, FRAME_SAMPLES, voiceActivity } from '../../src/core/voice-activity.ts';
import { concat } from '../support/twins.ts';
import { clicks, gain, hum, mix, noise, voice } from './signals.ts';

const silentFlags = (samples: Float32Array) => segment(samples).windows.map((w) => w.silent);
const voicedSeconds = (samples: Float32Array) =>
  (voiceActivity(samples).reduce((n, v) => n + v, 0) * FRAME_SAMPLES) / 16_000;

describe('voice activity', () => {
  // A voice peaking near −35 dBFS in a quiet room, as RAVDESS clips and phones far from the mouth sound.
  const quietTake = mix(voice(5, 0.018), noise(5, -80, 'brown'));

  it.each([0, -10, -20, -30, -40])('hears quiet speech %i dB below a −35 dBFS-peak take', (db) => {
    expect(silentFlags(gain(quietTake, db))).toEqual([false]);
    expect(voicedSeconds(gain(quietTake, db))).toBeGreaterThan(0.3);
  });

  it.each([
    ['digital silence', new Float32Array(SEGMENT_SAMPLES)],
    ['white noise at −60 dBFS', noise(5, -60)],
    ['white noise at −40 dBFS', noise(5, -40)],
    ['room rumble at −50 dBFS', noise(5, -50, 'brown')],
    ['room rumble at −30 dBFS', noise(5, -30, 'brown')],
    ['mains hum at −40 dBFS', hum(5, -40)],
    ['mains hum at −25 dBFS', hum(5, -25)],
    [
      'rumble, hiss and hum together',
      mix(mix(noise(5, -55, 'brown'), noise(5, -62, 'white', 2)), hum(5, -65)),
    ],
  ])('hears no voice in %s', (_, samples) => {
    expect(silentFlags(samples)).toEqual([true]);
    expect(voicedSeconds(samples)).toBe(0);
  });

  it('hears no voice in clicks, however loud: each is over long before a syllable would be', () => {
    expect(voicedSeconds(clicks(5, 1, 0.5))).toBe(0);
    expect(voicedSeconds(clicks(5, 8, 0.1))).toBe(0);
  });

  it('hears a voice 20 dB over a steady fan, and not the fan alone before it', () => {
    const fan = noise(10, -50, 'white', 3);
    const talk = concat(new Float32Array(SEGMENT_SAMPLES), voice(5, 0.1));
    expect(silentFlags(mix(fan, talk))).toEqual([true, false]);
  });

  it('hears a voice only about 6 dB over loud steady noise by its pitch', () => {
    // Syllables rise about 6 dB over the noise: under MARGIN_DB, so only their periodicity makes them voice.
    const noisy = mix(noise(5, -40, 'white', 4), voice(5, 0.036));
    expect(silentFlags(noisy)).toEqual([false]);
  });

  it('ignores sound below the absolute floor even where the recording is otherwise digital silence', () => {
    // Speech-shaped but 10 dB under ABSOLUTE_MIN_DBFS: numerical dust, not a voice.
    const dust = gain(voice(5, 1), ABSOLUTE_MIN_DBFS - 10);
    expect(silentFlags(dust)).toEqual([true]);
  });
});
