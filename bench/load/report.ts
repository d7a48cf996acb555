// bench/results/load.md from the load benchmark's result.
import type { Latency, Tally } from './answers.ts';

export interface LoadResult {
  readonly date: string;
  readonly machine: { cores: number; cpu: string; node: string };
  readonly model: { id: string; version: string; device: string; fixture: boolean };
  readonly n: number;
  readonly seconds: number;
  readonly waitSeconds: number;
  readonly bot: {
    workConcurrency: number;
    workQueueMax: number;
    inferenceWorkers: number;
    inferenceThreads: number;
  };
  readonly loadAverage1m: { before: number; after: number };
  readonly processMaxRssMiB: number;
  readonly phases: readonly (Tally & {
    platform: string;
    input: string;
    wallSeconds: number;
    peakRssMiB: number;
  })[];
}

const s = (v: number | null) => (v === null ? '–' : v.toFixed(2));
const lat = (l: Latency) => `${s(l.p50Seconds)} / ${s(l.p95Seconds)} / ${s(l.maxSeconds)}`;

export function loadReport(r: LoadResult): string {
  const ok = r.phases.every((p) => p.lost === 0 && p.doubled === 0);
  return [
    `# Load benchmark (${r.date})`,
    '',
    `${r.machine.cores} cores, ${r.machine.cpu}, Node ${r.machine.node}; model ${r.model.id} ${r.model.version} on ${r.model.device}${r.model.fixture ? ' (TEST FIXTURE)' : ''}; bot defaults: ${r.bot.workConcurrency} analysis at a time, ${r.bot.workQueueMax} waiting before "busy"; ${r.bot.inferenceWorkers} inference worker × ${r.bot.inferenceThreads} threads; rate limits lifted. Load average (1 min) ${r.loadAverage1m.before} before the run, ${r.loadAverage1m.after} after${Math.max(r.loadAverage1m.before, r.loadAverage1m.after) > r.machine.cores ? `: above ${r.machine.cores}, other work was competing for the cores and every latency is longer than on an idle machine` : ''}.`,
    '',
    `${r.n} users each send one voice note at the same moment, through the fake platform on 127.0.0.1 to the real discord.js bot / Bolt app (real download, decoder, onnxruntime, SQLite), after one warm-up note. Each user must get exactly one final answer (the result, or a refusal such as "busy") within ${r.waitSeconds} s: **lost** = none, **doubled** = more than one. Latency: from the note leaving the fake platform to that answer, p50 / p95 / max in seconds. Peak RSS: this process (bot, model, fake platform) during the flood, sampled every 20 ms; ffmpeg child processes not included.`,
    '',
    '| platform | input | lost | doubled | results | "busy" | other answers | result latency s | refusal latency s | all answered in s | peak RSS MiB |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.phases.map(
      (p) =>
        `| ${p.platform} | ${p.input} | **${p.lost}** | **${p.doubled}** | ${p.results} | ${p.busy} | ${p.other} | ${lat(p.resultLatency)} | ${lat(p.refusalLatency)} | ${p.wallSeconds.toFixed(2)} | ${p.peakRssMiB} |`,
    ),
    '',
    ...r.phases.flatMap((p) => p.otherTexts.map((t) => `- ${p.platform}, other answer: “${t}”`)),
    `Peak RSS of the whole run (both platforms, model loaded for each): ${r.processMaxRssMiB} MiB.`,
    '',
    ok ? 'Every user got exactly one answer.' : '**FAILED: a reply was lost or doubled.**',
    '',
  ].join('\n');
}
