// `npm run bench:load [-- --n 50 --seconds 30]`: N voice notes sent at once through the fake Discord and
// then the fake Slack, with the configured model (models/default). Each user must get exactly one final
// answer — a result or a coded refusal such as "busy" — within a bounded wait: replies lost (none) and
// doubled (more than one) must both be 0. Also "busy" refusals, p50/p95 latency and peak RSS; written to
// bench/results/load.{json,md}. Exits 1 when a reply was lost or doubled.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadDiscordConfig } from '../src/bots/discord/config.ts';
import { loadConfig } from '../src/config.ts';
import { createOnnxClassifier, defaultParallelism } from '../src/inference/index.ts';
import { type Tally, tally } from './load/answers.ts';
import { discordLoad, type PhaseOptions, type PhaseResult } from './load/discord.ts';
import { loadReport } from './load/report.ts';
import { slackLoad } from './load/slack.ts';
import { benchModelDir, loopedSample, machine, modelUsed } from './support.ts';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '30' },
    'wait-s': { type: 'string', default: '300' },
    platform: { type: 'string', default: 'both' },
    /** Where load.md and load.json go (a trial run elsewhere keeps the committed results). */
    out: { type: 'string', default: 'bench/results' },
  },
});
const n = Number(args.n);
const seconds = Number(args.seconds);
const waitMs = Number(args['wait-s']) * 1000;
if (!Number.isInteger(n) || n < 1 || !(seconds >= 1 && seconds <= 600) || !(waitMs > 0))
  throw new Error(
    'usage: bench/load.ts [--n 50] [--seconds 30] [--wait-s 300] [--platform both|discord|slack] [--out bench/results]',
  );
const platforms = args.platform === 'both' ? ['discord', 'slack'] : [args.platform];

const config = loadConfig({ LOG_LEVEL: 'warn', ...process.env });
const modelDir = benchModelDir(config.MODEL_DIR);
const parallel = defaultParallelism();
const workers = config.INFERENCE_WORKERS ?? parallel.workers;
const threads = config.INFERENCE_THREADS ?? parallel.threadsPerWorker;
// The bots' own queue settings (their defaults unless set in the environment): what users meet. Rate
// limits are lifted, since N different users in one workspace would otherwise meet the per-workspace limit
// before the queue.
const bots = loadDiscordConfig({
  DISCORD_TOKEN: 'bench',
  DISCORD_APPLICATION_ID: '100000000000000000',
  ...process.env,
});
const env: Record<string, string> = {
  MODEL_DIR: modelDir,
  INFERENCE_DEVICE: config.INFERENCE_DEVICE,
  INFERENCE_WORKERS: String(workers),
  INFERENCE_THREADS: String(threads),
  WORK_CONCURRENCY: String(bots.bot.workConcurrency),
  WORK_QUEUE_MAX: String(bots.bot.workQueueMax),
  RATE_LIMIT_USER_PER_MINUTE: '100000',
  RATE_LIMIT_GUILD_PER_MINUTE: '100000',
  RATE_LIMIT_WORKSPACE_PER_MINUTE: '100000',
};

// Other work on the machine slows every latency: the 1-minute load average before and after says how much.
const loadBefore = loadavg()[0] ?? 0;
const work = mkdtempSync(join(tmpdir(), 'annamalai-load-bench-'));
const phases: { platform: string; input: string; result: PhaseResult; tally: Tally }[] = [];
try {
  for (const platform of platforms) {
    if (platform === 'discord') {
      const note = loopedSample(seconds, ['-ac', '1', '-c:a', 'libopus', '-b:a', '32k'], join(work, 'n.ogg'));
      const options: PhaseOptions = { n, note, seconds, env, waitMs };
      const result = await discordLoad(options);
      const input = `${seconds}-s Ogg/Opus voice message, 32 kbit/s (${note.byteLength} bytes), in a DM`;
      phases.push({ platform, input, result, tally: tally(result.outcomes) });
    } else if (platform === 'slack') {
      const note = loopedSample(seconds, ['-c:a', 'aac', '-b:a', '64k'], join(work, 'n.m4a'));
      const classifier = await createOnnxClassifier({
        modelDir,
        device: config.INFERENCE_DEVICE,
        workers,
        threadsPerWorker: threads,
      });
      try {
        const result = await slackLoad({ n, note, seconds, env, waitMs }, classifier);
        const input = `${seconds}-s audio/mp4 (AAC 64 kbit/s) clip (${note.byteLength} bytes), in a DM`;
        phases.push({ platform, input, result, tally: tally(result.outcomes) });
      } finally {
        await classifier.close();
      }
    } else throw new Error(`unknown platform ${platform}: use discord, slack or both`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const first = phases[0];
if (!first) throw new Error('no platform ran');
const result = {
  date: new Date().toISOString(),
  machine: machine(),
  model: modelUsed(modelDir, first.result.model),
  n,
  seconds,
  waitSeconds: waitMs / 1000,
  bot: {
    workConcurrency: Number(env.WORK_CONCURRENCY),
    workQueueMax: Number(env.WORK_QUEUE_MAX),
    inferenceWorkers: workers,
    inferenceThreads: threads,
  },
  loadAverage1m: { before: Number(loadBefore.toFixed(2)), after: Number((loadavg()[0] ?? 0).toFixed(2)) },
  processMaxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  phases: phases.map((p) => ({
    platform: p.platform,
    input: p.input,
    ...p.tally,
    wallSeconds: p.result.wallSeconds,
    peakRssMiB: Math.round(p.result.peakRssBytes / 2 ** 20),
  })),
};
const md = loadReport(result);
writeFileSync(join(args.out, 'load.json'), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(join(args.out, 'load.md'), md);
console.log(md);
if (result.phases.some((p) => p.lost > 0 || p.doubled > 0)) process.exitCode = 1;
