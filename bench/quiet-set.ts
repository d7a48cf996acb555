// The labelled set the quiet-speech benchmark measures the voice-activity gate on: corpus speech at several
// gains (read from ../shared/corpora, never committed) and non-speech that must stay silent (digital silence,
// room tone, pink and brown noise, Opus comfort noise, mains hum, clicks), all 16 kHz mono float PCM.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAMPLE_RATE } from '../src/core/audio.ts';
import { requireFfmpeg } from './support.ts';

export const CORPORA_DIR = process.env.CORPORA_DIR ?? '../shared/corpora';
export const GAINS_DB = [0, -10, -20, -30, -40] as const;

export interface SpeechClip {
  readonly file: string;
  readonly corpus: string;
  readonly samples: Float32Array;
}

export interface NonSpeech {
  readonly name: string;
  readonly samples: Float32Array;
}

export function corporaPresent(): boolean {
  return existsSync(join(CORPORA_DIR, 'metadata.csv'));
}

/** `perCorpus` clips of every corpus, chosen by the SHA-1 of their path (stable, not by label or speaker). */
export function pickClips(perCorpus: number): { file: string; corpus: string }[] {
  const rows = readFileSync(join(CORPORA_DIR, 'metadata.csv'), 'utf8').trim().split('\n').slice(1);
  const byCorpus = new Map<string, string[]>();
  for (const row of rows) {
    const [file, corpus] = row.split(',');
    if (!file || !corpus) continue;
    byCorpus.set(corpus, [...(byCorpus.get(corpus) ?? []), file]);
  }
  const sha = (s: string) => createHash('sha1').update(s).digest('hex');
  return [...byCorpus.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([corpus, files]) =>
      files
        .sort((a, b) => sha(a).localeCompare(sha(b)))
        .slice(0, perCorpus)
        .map((file) => ({ file, corpus })),
    );
}

/** ffmpeg decodes (and optionally filters) anything to 16 kHz mono float PCM. */
export function ffmpegPcm(inputArgs: readonly string[], filter?: string): Float32Array {
  const out = execFileSync(
    requireFfmpeg().path,
    [
      ...['-nostdin', '-loglevel', 'error', ...inputArgs],
      ...(filter ? ['-af', filter] : []),
      ...['-ac', '1', '-ar', String(SAMPLE_RATE), '-f', 'f32le', '-'],
    ],
    { maxBuffer: 1 << 28 },
  );
  return new Float32Array(out.buffer, out.byteOffset, out.byteLength / 4).slice();
}

export function loadSpeech(perCorpus: number): SpeechClip[] {
  return pickClips(perCorpus).map(({ file, corpus }) => ({
    file,
    corpus,
    samples: ffmpegPcm(['-i', join(CORPORA_DIR, file)]),
  }));
}

export function withGain(samples: Float32Array, gainDb: number): Float32Array {
  const g = 10 ** (gainDb / 20);
  return samples.map((v) => v * g);
}

const SECONDS = 5;
const lavfi = (source: string) => ffmpegPcm(['-f', 'lavfi', '-i', source, '-t', String(SECONDS)]);

/** Speech-free signals that must never be given an emotion, each 5 s, at the levels of real rooms and codecs. */
export function nonSpeech(): NonSpeech[] {
  const dir = mkdtempSync(join(tmpdir(), 'annamalai-quiet-'));
  try {
    const set: NonSpeech[] = [{ name: 'digital silence', samples: new Float32Array(SECONDS * SAMPLE_RATE) }];
    for (const color of ['white', 'pink', 'brown'] as const) {
      for (const dbfs of [-60, -50, -40]) {
        set.push({
          name: `${color} noise ${dbfs} dBFS`,
          samples: rmsTo(lavfi(`anoisesrc=r=16000:c=${color}:a=0.5:seed=7`), dbfs),
        });
      }
    }
    for (const dbfs of [-60, -50]) {
      // Room tone: brown rumble plus a little pink hiss and a faint 50-Hz hum with harmonics.
      const rumble = rmsTo(lavfi('anoisesrc=r=16000:c=brown:a=0.5:seed=11'), dbfs);
      const hiss = rmsTo(lavfi('anoisesrc=r=16000:c=pink:a=0.5:seed=12'), dbfs - 6);
      const hum = rmsTo(humSignal(50), dbfs - 10);
      set.push({
        name: `room tone ${dbfs} dBFS`,
        samples: rumble.map((v, i) => v + (hiss[i] ?? 0) + (hum[i] ?? 0)),
      });
    }
    for (const [hz, dbfs] of [
      [50, -40],
      [60, -30],
    ] as const) {
      set.push({ name: `${hz}-Hz hum ${dbfs} dBFS`, samples: rmsTo(humSignal(hz), dbfs) });
    }
    for (const [perSecond, dbfs] of [
      [1, -20],
      [8, -30],
    ] as const) {
      set.push({ name: `clicks ${perSecond}/s ${dbfs} dBFS peak`, samples: clicks(perSecond, dbfs) });
    }
    for (const kbps of [16, 32]) {
      for (const [source, what] of [
        ['anullsrc=r=48000:cl=mono', 'silence'],
        ['anoisesrc=r=48000:c=pink:a=0.001:seed=5', 'pink noise at -66 dBFS'],
      ] as const) {
        const ogg = join(dir, `cn-${kbps}-${what.length}.ogg`);
        execFileSync(requireFfmpeg().path, [
          ...['-nostdin', '-loglevel', 'error', '-f', 'lavfi', '-i', source, '-t', String(SECONDS)],
          ...['-c:a', 'libopus', '-b:a', `${kbps}k`, '-dtx', '1', '-application', 'voip', '-y', ogg],
        ]);
        set.push({ name: `Opus ${kbps} kbit/s DTX of ${what}`, samples: ffmpegPcm(['-i', ogg]) });
      }
    }
    return set;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function rmsTo(samples: Float32Array, dbfs: number): Float32Array {
  const level = rms(samples);
  return level === 0 ? samples : withGain(samples, dbfs - 20 * Math.log10(level));
}

/** Mains hum: the fundamental and its odd harmonics, as a transformer's buzz has. */
function humSignal(hz: number): Float32Array {
  const out = new Float32Array(SECONDS * SAMPLE_RATE);
  for (let i = 0; i < out.length; i++) {
    const t = (2 * Math.PI * hz * i) / SAMPLE_RATE;
    out[i] = Math.sin(t) + 0.5 * Math.sin(3 * t) + 0.25 * Math.sin(5 * t);
  }
  return out;
}

/** Decaying 2-ms clicks (a ticking clock, a keyboard) over digital silence. */
function clicks(perSecond: number, peakDbfs: number): Float32Array {
  const out = new Float32Array(SECONDS * SAMPLE_RATE);
  const peak = 10 ** (peakDbfs / 20);
  const every = Math.round(SAMPLE_RATE / perSecond);
  for (let start = 0; start < out.length; start += every) {
    for (let i = 0; i < 32 && start + i < out.length; i++)
      out[start + i] = peak * Math.exp(-i / 8) * (i % 2 ? -1 : 1);
  }
  return out;
}

/** Pink noise as long as `length` samples, its RMS `belowDb` under the RMS of `speech` (pauses included). */
export function pinkUnder(speech: Float32Array, belowDb: number, seed: number): Float32Array {
  const seconds = (speech.length / SAMPLE_RATE).toFixed(4);
  const pink = ffmpegPcm(['-f', 'lavfi', '-i', `anoisesrc=r=16000:c=pink:a=0.5:seed=${seed}`, '-t', seconds]);
  return rmsTo(pink, 20 * Math.log10(rms(speech)) - belowDb).subarray(0, speech.length);
}

function rms(samples: Float32Array): number {
  let sum = 0;
  for (const v of samples) sum += v * v;
  return Math.sqrt(sum / Math.max(1, samples.length));
}

/**
 * Recorded room tone: the first 0.25 s of each RAVDESS and SAVEE clip (both start with a pause before the
 * voice), looped to 5 s. The loop's seams are the only thing that changes in it.
 */
export function recordedRoomTone(clips: readonly SpeechClip[]): NonSpeech[] {
  const head = SAMPLE_RATE / 4;
  return clips
    .filter((c) => c.corpus === 'ravdess' || c.corpus === 'savee')
    .map((c) => {
      const out = new Float32Array(SECONDS * SAMPLE_RATE);
      for (let at = 0; at < out.length; at += head)
        out.set(c.samples.subarray(0, Math.min(head, out.length - at)), at);
      return { name: `room tone recorded before the voice in ${c.file}`, samples: out };
    });
}
