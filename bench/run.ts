// `npm run bench`: audio seconds per wall second for decode, inference and the whole analyze path on a
// 60-s recording, plus peak RSS; written to bench/results/latest.{json,md}. Ratios are against baselines
// measured in the same run (ffmpeg's own CLI for decoding, real time for the rest).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createAudioDecoder } from '../src/audio/index.ts';
import { decodeLimits, loadConfig } from '../src/config.ts';
import { analyzeRecording } from '../src/core/analyze.ts';
import { SEGMENT_SAMPLES } from '../src/core/audio.ts';
import { createOnnxClassifier } from '../src/inference/index.ts';
import { createLogger } from '../src/log.ts';
import { benchModelDir, loopedSample, machine, modelUsed, requireFfmpeg } from './support.ts';

const SECONDS = 60;
const REPEATS = 5;
const config = loadConfig({ LOG_LEVEL: 'warn', ...process.env });
const modelDir = benchModelDir(config.MODEL_DIR);
const ffmpeg = requireFfmpeg();

const work = mkdtempSync(join(tmpdir(), 'annamalai-bench-'));
function make(name: string, codecArgs: string[]): Uint8Array {
  return loopedSample(SECONDS, codecArgs, join(work, name));
}
const inputs = {
  'ogg-opus (in-process)': make('a.ogg', ['-c:a', 'libopus', '-b:a', '32k']),
  'm4a-aac (ffmpeg)': make('a.m4a', ['-c:a', 'aac', '-b:a', '64k']),
  'wav 44.1k stereo (in-process)': make('a.wav', ['-ar', '44100', '-ac', '2']),
};

/** Median wall time of `repeats` runs, in seconds. */
async function time(fn: () => Promise<unknown> | unknown, repeats = REPEATS): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await fn();
    runs.push((performance.now() - start) / 1000);
  }
  runs.sort((a, b) => a - b);
  return runs[Math.floor(runs.length / 2)] ?? Number.NaN;
}

const rows: { stage: string; seconds: number; realtime: number; vsBaseline?: string }[] = [];
const decoder = createAudioDecoder({ ffmpeg });
const limits = decodeLimits(config);

const ffmpegCli = await time(() =>
  execFileSync(
    ffmpeg.path,
    ['-loglevel', 'error', '-i', join(work, 'a.ogg'), '-ac', '1', '-ar', '16000', '-f', 'f32le', 'pipe:1'],
    {
      maxBuffer: 64 << 20,
    },
  ),
);
rows.push({
  stage: 'baseline: ffmpeg CLI decode of the Ogg/Opus file',
  seconds: ffmpegCli,
  realtime: SECONDS / ffmpegCli,
});
for (const [name, bytes] of Object.entries(inputs)) {
  const t = await time(() => decoder.decode({ bytes }, { limits }));
  rows.push({
    stage: `decode ${name}`,
    seconds: t,
    realtime: SECONDS / t,
    vsBaseline: `${(ffmpegCli / t).toFixed(2)}× ffmpeg CLI`,
  });
}

const logger = createLogger('warn');
const loadStart = performance.now();
const classifier = await createOnnxClassifier({ modelDir, device: config.INFERENCE_DEVICE, logger });
const loadSeconds = (performance.now() - loadStart) / 1000;
const segments = Array.from({ length: SECONDS / 5 }, (_, i) => {
  const s = new Float32Array(SEGMENT_SAMPLES);
  for (let j = 0; j < s.length; j++) s[j] = 0.1 * Math.sin((2 * Math.PI * (150 + 10 * i) * j) / 16_000);
  return s;
});
await classifier.classify(segments.slice(0, 1)); // warm-up
const single = await time(() => classifier.classify(segments.slice(0, 1)));
rows.push({ stage: 'inference, one 5-s segment (batch 1)', seconds: single, realtime: 5 / single });
const batched = await time(() => classifier.classify(segments));
rows.push({
  stage: `inference, ${segments.length} segments`,
  seconds: batched,
  realtime: SECONDS / batched,
  vsBaseline: `${((single * segments.length) / batched).toFixed(2)}× one-at-a-time`,
});

const deps = { decoder, classifier, limits };
const whole = await time(() =>
  analyzeRecording(deps, { bytes: inputs['ogg-opus (in-process)'] }, { platform: 'bench' }),
);
rows.push({
  stage: 'analyze: 60-s Ogg/Opus, decode → segments → model → summary',
  seconds: whole,
  realtime: SECONDS / whole,
});
await classifier.close();
rmSync(work, { recursive: true, force: true });

const result = {
  date: new Date().toISOString(),
  machine: machine(),
  model: modelUsed(modelDir, classifier.info),
  modelLoadSeconds: loadSeconds,
  medianOf: REPEATS,
  rows,
  peakRssMiB: process.resourceUsage().maxRSS / 1024,
};
const md = [
  `# Benchmark (${result.date})`,
  '',
  `${result.machine.cores} cores, ${result.machine.cpu}, Node ${result.machine.node}; model ${result.model.id} ${result.model.version} on ${result.model.device} (loaded in ${loadSeconds.toFixed(2)} s); median of ${REPEATS} runs; 60-s input.`,
  '',
  '| stage | wall s | × real time | vs baseline |',
  '|---|---|---|---|',
  ...rows.map(
    (r) => `| ${r.stage} | ${r.seconds.toFixed(4)} | ${r.realtime.toFixed(1)} | ${r.vsBaseline ?? ''} |`,
  ),
  '',
  `Peak RSS of the process (main thread + inference workers): ${result.peakRssMiB.toFixed(0)} MiB.`,
  '',
].join('\n');
writeFileSync('bench/results/latest.json', `${JSON.stringify(result, null, 2)}\n`);
writeFileSync('bench/results/latest.md', md);
console.log(md);

// The Slack app: clip-event-to-reply time against the fake Slack (bench/results/slack.md).
await import('./slack.ts');

// The Discord bot: voice-message-event-to-reply time against the fake Discord (bench/results/discord.md).
await import('./discord.ts');
