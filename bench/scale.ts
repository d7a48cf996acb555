// Scale-out benchmark (README "Scaling out"): the pg-boss queue's own overhead per job, then voice notes
// answered per minute and their latency through the real Discord entry point as a gateway (fake Discord)
// with 1 and 2 `annamalai worker` processes, on a throwaway Postgres. Needs Debian's postgresql binaries.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { analyzeRecording } from '../src/core/analyze.ts';
import { createLogger } from '../src/log.ts';
import { openBoss } from '../src/queue/pg-boss/boss.ts';
import { openPgBossAnalysis } from '../src/queue/pg-boss/gateway.ts';
import { startAnalysisWorker } from '../src/queue/pg-boss/worker.ts';
import { FakeDiscord } from '../test/bots/discord/fake-discord/server.ts';
import { spawnDiscordGateway, spawnWorker, testQueueSettings } from '../test/queue/worker-processes.ts';
import { startPostgres } from '../test/storage/postgres-server.ts';
import { LABELS, MemoryClassifier, MemoryDecoder, pcm } from '../test/support/twins.ts';
import { benchModelDir, loopedSample, machine, quantile } from './support.ts';
import { secondsToResult } from './voice-note.ts';

const SECONDS = 10;
const NOTES = Number(process.env.SCALE_BENCH_NOTES ?? 40);
const OVERHEAD_JOBS = 200;
const modelDir = benchModelDir(process.env.MODEL_DIR ?? 'models/default');
const log = createLogger('silent');
const work = mkdtempSync(join(tmpdir(), 'annamalai-scale-bench-'));
const server = await startPostgres();

/** A job's round trip with an analysis that costs nothing: what the queue itself adds. */
async function queueOverhead() {
  const analyzer = {
    decoder: new MemoryDecoder(pcm(new Float32Array(32_000).fill(0.1))),
    classifier: new MemoryClassifier(() => new Float32Array(LABELS.length).fill(1 / LABELS.length)),
    limits: { maxBytes: 1e8, maxDurationSeconds: 600, timeoutMs: 1000 },
  };
  const job = {
    input: { bytes: new Uint8Array(40_000).fill(7), name: 'note.ogg' },
    context: { platform: 'bench' },
  };
  const settings = { ...testQueueSettings(await server.createDatabase()), heartbeatSeconds: 30 };
  const boss = await openBoss(settings, log);
  await startAnalysisWorker(boss, analyzer, { concurrency: 8 }, log);
  const gateway = await openPgBossAnalysis(settings, log);
  const time = async (one: () => Promise<unknown>) => {
    for (let i = 0; i < 20; i++) await one();
    const ms: number[] = [];
    for (let i = 0; i < OVERHEAD_JOBS; i++) {
      const t = performance.now();
      await one();
      ms.push(performance.now() - t);
    }
    return { medianMs: quantile(ms, 0.5), p95Ms: quantile(ms, 0.95) };
  };
  const inProcess = await time(() => analyzeRecording(analyzer, job.input, job.context));
  const pgBoss = await time(() => gateway.analyse(job, {}));
  await gateway.close();
  await boss.stop({ graceful: false, close: true });
  return { jobs: OVERHEAD_JOBS, payloadBytes: job.input.bytes.byteLength, inProcess, pgBoss };
}

/** NOTES voice notes sent at once to one gateway with `workers` workers: throughput and latency. */
async function flood(workers: number, note: Uint8Array) {
  const settings = testQueueSettings(await server.createDatabase());
  const env = { MODEL_DIR: modelDir, INFERENCE_WORKERS: '1', INFERENCE_THREADS: '1', LOG_LEVEL: 'warn' };
  const procs = Array.from({ length: workers }, () => spawnWorker(settings, env));
  const fake = new FakeDiscord();
  // Every note in flight waits on the fake's requests at once.
  fake.setMaxListeners(0);
  await fake.listen();
  const gateway = await spawnDiscordGateway(fake, { url: settings.url, modelDir, token: 'bench-token' });
  const answer = (name: string) => secondsToResult(fake, name, note, SECONDS, 600_000);
  await Promise.all(Array.from({ length: workers * 2 }, (_, i) => answer(`warm-${i}`)));
  const start = performance.now();
  const seconds = await Promise.all(Array.from({ length: NOTES }, (_, i) => answer(`user-${i}`)));
  const wallS = (performance.now() - start) / 1000;
  await gateway.stop();
  for (const p of procs) await p.stop();
  await fake.close();
  return {
    workers,
    notes: NOTES,
    perMinute: (NOTES / wallS) * 60,
    medianS: quantile(seconds, 0.5),
    p95S: quantile(seconds, 0.95),
  };
}

try {
  const note = loopedSample(SECONDS, ['-ac', '1', '-c:a', 'libopus', '-b:a', '32k'], join(work, 'note.ogg'));
  const overhead = await queueOverhead();
  const runs = [await flood(1, note), await flood(2, note)];
  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    modelDir,
    noteSeconds: SECONDS,
    overhead,
    runs,
  };
  const md = [
    `# Scale-out benchmark (${result.date})`,
    '',
    `${result.machine.cores} cores, ${result.machine.cpu}, Node ${result.machine.node}; model ${modelDir}; Postgres on 127.0.0.1 (throwaway, fsync off).`,
    '',
    `Queue overhead: ${overhead.jobs} jobs one after another, ${overhead.payloadBytes}-byte recording, an analysis that costs nothing:`,
    `in-process median ${overhead.inProcess.medianMs.toFixed(2)} ms (p95 ${overhead.inProcess.p95Ms.toFixed(2)}), through pg-boss median ${overhead.pgBoss.medianMs.toFixed(2)} ms (p95 ${overhead.pgBoss.p95Ms.toFixed(2)}).`,
    '',
    `${NOTES} ${SECONDS}-s Ogg/Opus voice notes sent at once to one Discord gateway (fake Discord), analysed by worker processes (1 onnxruntime thread each); the gateway (which draws the charts), Postgres and the fake Discord share the same cores:`,
    '',
    '| workers | notes/min | median s | p95 s |',
    '|---|---|---|---|',
    ...runs.map(
      (r) => `| ${r.workers} | ${r.perMinute.toFixed(0)} | ${r.medianS.toFixed(2)} | ${r.p95S.toFixed(2)} |`,
    ),
    '',
  ].join('\n');
  writeFileSync('bench/results/scale.json', `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync('bench/results/scale.md', md);
  console.log(md);
} finally {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
