import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiscordBot } from '../src/bots/discord/bot.ts';
import { loadDiscordConfig } from '../src/bots/discord/config.ts';
import { openServices } from '../src/compose.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { SqliteSettingsStore } from '../src/storage/settings-store.ts';
import { FakeDiscord } from '../test/bots/discord/fake-discord/server.ts';
import { benchModelDir, loopedSample, machine, modelUsed, quantile } from './support.ts';
import { secondsToResult } from './voice-note.ts';

const SECONDS = 60;
const RUNS = Number(process.env.DISCORD_BENCH_RUNS ?? 10);

const base = loadConfig({ LOG_LEVEL: 'warn', ...process.env });
const modelDir = benchModelDir(base.MODEL_DIR);
const config = { ...base, MODEL_DIR: modelDir };

const work = mkdtempSync(join(tmpdir(), 'annamalai-discord-bench-'));
const note = loopedSample(
  SECONDS,
  ['-ac', '1', '-c:a', 'libopus', '-b:a', '32k'],
  join(work, 'voice-message.ogg'),
);

const logger = createLogger('warn');
const dbPath = join(work, 'bench.db');
const services = await openServices(config, logger, { databasePath: dbPath });
const settings = new SqliteSettingsStore({ path: dbPath });
const fake = new FakeDiscord();
await fake.listen();
const discord = loadDiscordConfig({
  DISCORD_TOKEN: 'bench-token',
  DISCORD_APPLICATION_ID: fake.applicationId,
  DISCORD_API_URL: fake.apiUrl,
  DISCORD_CDN_HOSTS: fake.cdnHost,
  RATE_LIMIT_USER_PER_MINUTE: '1000',
  RATE_LIMIT_GUILD_PER_MINUTE: '1000',
});
const store = services.analyzer.store;
if (!store) throw new Error('no store');
const bot = new DiscordBot({
  config: discord,
  analyzer: { ...services.analyzer, decoder: services.analyzer.decoder },
  store,
  settings,
  logger,
});
await bot.start();

function once(): Promise<number> {
  return secondsToResult(fake, `bench-${Math.random()}`, note, SECONDS, 120_000);
}

await once(); // warm-up
const runs: number[] = [];
for (let i = 0; i < RUNS; i++) runs.push(await once());
await bot.shutdown(1000);
await fake.close();
await settings.close();
await services.close();
rmSync(work, { recursive: true, force: true });

const sorted = [...runs].sort((a, b) => a - b);
const result = {
  date: new Date().toISOString(),
  machine: machine(),
  model: modelUsed(modelDir, services.analyzer.classifier.info),
  input: `${SECONDS}-s Ogg/Opus voice note, 32 kbit/s mono (${note.byteLength} bytes)`,
  runs: RUNS,
  medianSeconds: quantile(runs, 0.5),
  p95Seconds: quantile(runs, 0.95),
  allSeconds: runs,
};
const md = [
  `# Discord benchmark (${result.date})`,
  '',
  `${result.machine.cores} cores, ${result.machine.cpu}, Node ${result.machine.node}; model ${result.model.id}${result.model.fixture ? ' (TEST FIXTURE)' : ''}.`,
  '',
  `Voice message in a DM → reply with embed and chart, against the fake Discord (real discord.js, decoder, onnxruntime, SQLite), ${result.input}, ${RUNS} runs after a warm-up:`,
  '',
  '| median s | p95 s | min s | max s |',
  '|---|---|---|---|',
  `| ${result.medianSeconds.toFixed(3)} | ${result.p95Seconds.toFixed(3)} | ${(sorted[0] ?? 0).toFixed(3)} | ${(sorted.at(-1) ?? 0).toFixed(3)} |`,
  '',
].join('\n');
writeFileSync('bench/results/discord.json', `${JSON.stringify(result, null, 2)}\n`);
writeFileSync('bench/results/discord.md', md);
console.log(md);
