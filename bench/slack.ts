import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAudioDecoder } from '../src/audio/index.ts';
import { createSlackBot } from '../src/bots/slack/app.ts';
import { loadSlackConfig } from '../src/bots/slack/config.ts';
import { decodeLimits, loadConfig } from '../src/config.ts';
import { createOnnxClassifier } from '../src/inference/index.ts';
import { createLogger } from '../src/log.ts';
import { SqliteSettingsStore } from '../src/storage/settings-store.ts';
import { SqliteStore } from '../src/storage/sqlite-store.ts';
import { FakeSlack } from '../test/bots/slack/fake-slack.ts';
import { benchModelDir, loopedSample, machine, modelUsed, quantile, requireFfmpeg } from './support.ts';

const SECONDS = 60;
const RUNS = Number(process.env.SLACK_BENCH_RUNS ?? 10);

const config = loadConfig({ LOG_LEVEL: 'warn', ...process.env });
const modelDir = benchModelDir(config.MODEL_DIR);

const work = mkdtempSync(join(tmpdir(), 'annamalai-slack-bench-'));
const clip = Buffer.from(loopedSample(SECONDS, ['-c:a', 'aac', '-b:a', '64k'], join(work, 'clip.m4a')));

const fake = await FakeSlack.start();
fake.hostedFiles.set('clip.m4a', clip);
const dbPath = join(work, 'bench.db');
const store = new SqliteStore({ path: dbPath });
const settings = new SqliteSettingsStore({ path: dbPath });
const logger = createLogger('warn');
const classifier = await createOnnxClassifier({ modelDir, device: config.INFERENCE_DEVICE, logger });
const bot = createSlackBot({
  config: loadSlackConfig({
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_APP_TOKEN: 'xapp-bench',
    SLACK_API_URL: fake.apiUrl,
    SLACK_TEST_FILE_HOST: fake.host,
    RATE_LIMIT_USER_PER_MINUTE: '10000',
    RATE_LIMIT_WORKSPACE_PER_MINUTE: '10000',
  }),
  analyzer: {
    decoder: createAudioDecoder({ ffmpeg: requireFfmpeg() }),
    classifier,
    limits: decodeLimits(config),
    store,
  },
  settings,
  logger,
});
await bot.start();

interface Run {
  readonly ackMs: number;
  readonly analyzingMs: number;
  readonly replyMs: number;
  readonly chartMs: number;
}

async function once(i: number): Promise<Run> {
  const ts = fake.nextTs();
  const event = fake.eventPayload({
    type: 'message',
    subtype: 'file_share',
    user: 'U0BENCH',
    channel: 'D0BENCH',
    channel_type: 'im',
    ts,
    files: [
      {
        id: `FBENCH${i}`,
        name: 'clip.m4a',
        mimetype: 'audio/mp4',
        filetype: 'm4a',
        subtype: 'slack_audio',
        size: clip.byteLength,
        url_private: fake.fileUrl('clip.m4a'),
        user: 'U0BENCH',
      },
    ],
  });
  const before = fake.calls.length;
  const start = Date.now();
  const ack = await fake.deliver('events_api', event);
  const post = await fake.waitFor(
    () => fake.calls.slice(before).find((c) => c.method === 'chat.postMessage' && c.args.thread_ts === ts),
    60_000,
  );
  const reply = await fake.waitFor(
    () =>
      fake.calls
        .slice(before)
        .find(
          (c) =>
            c.method === 'chat.update' &&
            c.args.ts === post.reply?.ts &&
            !String(c.args.text).startsWith('Analyzing'),
        ),
    120_000,
  );
  const chart = await fake.waitFor(
    () =>
      fake.calls
        .slice(before)
        .find((c) => c.method === 'files.completeUploadExternal' && c.args.thread_ts === ts),
    60_000,
  );
  if (!/Emotions heard/.test(JSON.stringify(reply.args.blocks)))
    throw new Error(`run ${i}: ${String(reply.args.text)}`);
  await bot.idle();
  return {
    ackMs: ack.at - start,
    analyzingMs: post.at - start,
    replyMs: reply.at - start,
    chartMs: chart.at - start,
  };
}

await once(0); // warm-up: first decode, first inference, first chart
const runs: Run[] = [];
for (let i = 1; i <= RUNS; i++) runs.push(await once(i));
await bot.stop(5_000);
await fake.close();
await classifier.close();
await store.close();
await settings.close();
rmSync(work, { recursive: true, force: true });

const stat = (key: keyof Run) => ({
  medianMs: quantile(
    runs.map((r) => r[key]),
    0.5,
  ),
  p95Ms: quantile(
    runs.map((r) => r[key]),
    0.95,
  ),
});
const result = {
  date: new Date().toISOString(),
  machine: machine(),
  model: modelUsed(modelDir, classifier.info),
  clip: { seconds: SECONDS, bytes: clip.byteLength, type: 'audio/mp4 (AAC 64 kb/s)' },
  runs: RUNS,
  ack: stat('ackMs'),
  analyzingPosted: stat('analyzingMs'),
  reply: stat('replyMs'),
  chartUploaded: stat('chartMs'),
};
const row = (name: string, s: { medianMs: number; p95Ms: number }) =>
  `| ${name} | ${s.medianMs} | ${s.p95Ms} |`;
const md = [
  `# Slack benchmark (${result.date})`,
  '',
  `${result.machine.cores} cores, ${result.machine.cpu}, Node ${result.machine.node}; model ${result.model.id} ${result.model.version} on ${result.model.device}; a ${SECONDS}-s ${result.clip.type} clip of ${result.clip.bytes} bytes in a DM; real Bolt over Socket Mode against the fake Slack on 127.0.0.1; ${RUNS} runs after a warm-up.`,
  '',
  '| from the event leaving the fake Slack to… | median ms | p95 ms |',
  '|---|---|---|',
  row('the envelope acked', result.ack),
  row('“Analyzing…” posted in the thread', result.analyzingPosted),
  row('**the result (chat.update)**', result.reply),
  row('the chart uploaded (files.uploadV2 complete)', result.chartUploaded),
  '',
].join('\n');
writeFileSync('bench/results/slack.json', `${JSON.stringify(result, null, 2)}\n`);
writeFileSync('bench/results/slack.md', md);
console.log(md);
