import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach } from 'vitest';
import { createAudioDecoder } from '../../../src/audio/index.ts';
import { createSlackBot, type SlackBot, type SlackBotDeps } from '../../../src/bots/slack/app.ts';
import { loadSlackConfig, type SlackConfig } from '../../../src/bots/slack/config.ts';
import type { AnalysisStore, Clock, EmotionClassifier } from '../../../src/core/ports.ts';
import { createOnnxClassifier } from '../../../src/inference/index.ts';
import { createLogger } from '../../../src/log.ts';
import { SqliteBaselineStore } from '../../../src/storage/baseline-store.ts';
import { SqliteDigestStore } from '../../../src/storage/digest-store.ts';
import { SqliteSettingsStore } from '../../../src/storage/settings-store.ts';
import { SqliteStore } from '../../../src/storage/sqlite-store.ts';
import { FakeSlack, FIXTURES, TEAM } from './fake-slack.ts';

export const FIXTURE_MODEL = 'test/fixtures/models/tiny';
export const BOT_TOKEN = 'xoxb-1111-2222-secretbottoken';
export const APP_TOKEN = 'xapp-1-A0APP-3333-secretapptoken';
export const SIGNING_SECRET = 'fake-signing-secret-0123456789';

/** Everything the bot logged, as text, to assert that no token ever appears. */
export class LogSink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

let classifier: Promise<EmotionClassifier> | undefined;
/** One onnxruntime classifier (fixture model, one worker) per test file: loading it is the slow part. */
export function sharedClassifier(): Promise<EmotionClassifier> {
  classifier ??= createOnnxClassifier({
    modelDir: FIXTURE_MODEL,
    device: 'cpu',
    workers: 1,
    threadsPerWorker: 1,
  });
  return classifier;
}
export async function closeClassifier(): Promise<void> {
  if (classifier) await (await classifier).close();
  classifier = undefined;
}

export interface Harness {
  readonly fake: FakeSlack;
  readonly bot: SlackBot;
  readonly store: SqliteStore;
  readonly settings: SqliteSettingsStore;
  readonly config: SlackConfig;
  readonly logs: LogSink;
  /** The SQLite file the app uses (for the digest tests' extra stores). */
  readonly dbPath: string;
  /** The digest store, when started with `digestClock`. */
  readonly digests: SqliteDigestStore | undefined;
  /** The voice-baseline store, when started with `baselines`. */
  readonly baselines: SqliteBaselineStore | undefined;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly env?: Record<string, string>;
  readonly fake?: FakeSlack;
  readonly deps?: Partial<SlackBotDeps>;
  readonly maxBytes?: number;
  /** Turns the mood digest's settings and preview on, with this clock. */
  readonly digestClock?: Clock;
  /** In place of the shared fixture classifier (e.g. one wrapped to be slow). */
  readonly classifier?: EmotionClassifier;
  /** Wraps the results store the analyses are saved to (e.g. one whose save fails). */
  readonly analysisStore?: (store: SqliteStore) => AnalysisStore;
  /** How long the results store waits for another connection's lock (default: the store's 30 s). */
  readonly lockWaitMs?: number;
  /** Keep voice baselines (in the same SQLite file), as the bots' runtime does. */
  readonly baselines?: boolean;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const fake = options.fake ?? (await FakeSlack.start());
  const dir = mkdtempSync(join(tmpdir(), 'annamalai-slack-'));
  const dbPath = join(dir, 'bot.db');
  const store = new SqliteStore({
    path: dbPath,
    ...(options.lockWaitMs !== undefined ? { lockWaitMs: options.lockWaitMs } : {}),
  });
  const settings = new SqliteSettingsStore({ path: dbPath });
  const digests = options.digestClock ? new SqliteDigestStore({ path: dbPath }) : undefined;
  const baselines = options.baselines ? new SqliteBaselineStore({ path: dbPath }) : undefined;
  const logs = new LogSink();
  const logger = createLogger('debug', logs);
  const config = loadSlackConfig({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_APP_TOKEN: APP_TOKEN,
    SLACK_API_URL: fake.apiUrl,
    SLACK_TEST_FILE_HOST: fake.host,
    ...options.env,
  });
  const bot = createSlackBot({
    config,
    analyzer: {
      decoder: createAudioDecoder({ env: process.env }),
      classifier: options.classifier ?? (await sharedClassifier()),
      limits: { maxBytes: options.maxBytes ?? 25 * 1024 * 1024, maxDurationSeconds: 600, timeoutMs: 60_000 },
      store: options.analysisStore?.(store) ?? store,
      ...(baselines && { baselines }),
    },
    settings,
    logger,
    // Fast retries after a 429's Retry-After (the wait itself is the header's) and fast reconnects.
    clientOptions: { retryConfig: { retries: 3, factor: 1, minTimeout: 20, maxTimeout: 50 } },
    socketPingTimeoutMs: 300,
    ...(digests && options.digestClock ? { digest: { store: digests, clock: options.digestClock } } : {}),
    ...options.deps,
  });
  await bot.start();
  return {
    fake,
    bot,
    store,
    settings,
    config,
    logs,
    dbPath,
    digests,
    baselines,
    async close() {
      await bot.stop(1_000);
      await fake.close();
      await store.close();
      await settings.close();
      await digests?.close();
      await baselines?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let fileCounter = 0;
/** A Slack file object for a fixture, as message events carry it. */
export function slackFile(
  fake: FakeSlack,
  name: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  fileCounter += 1;
  const size = (() => {
    try {
      return statSync(join(FIXTURES, name)).size;
    } catch {
      return fake.hostedFiles.get(name)?.byteLength ?? 0;
    }
  })();
  const ext = name.split('.').at(-1) ?? '';
  const mimetype =
    ext === 'm4a'
      ? 'audio/mp4'
      : ext === 'webm'
        ? 'audio/webm'
        : ext === 'mp4'
          ? 'video/mp4'
          : ext === 'ogg'
            ? 'audio/ogg'
            : 'application/octet-stream';
  return {
    id: `F${String(fileCounter).padStart(8, '0')}`,
    name,
    title: name,
    mimetype,
    filetype: ext,
    size,
    url_private: fake.fileUrl(name),
    url_private_download: fake.fileUrl(name),
    user: 'U0ALICE',
    mode: 'hosted',
    ...overrides,
  };
}

/** A message event with files, as Slack sends it for a clip or an upload. */
export function fileMessage(
  fake: FakeSlack,
  channel: string,
  files: Record<string, unknown>[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    type: 'message',
    subtype: 'file_share',
    user: 'U0ALICE',
    channel,
    channel_type: channel.startsWith('D') ? 'im' : 'channel',
    ts: fake.nextTs(),
    text: '',
    files,
    team: TEAM,
    ...extra,
  };
}

/** The final reply: the last chat.update of the "Analyzing…" message posted in the thread. */
export function finalUpdate(fake: FakeSlack, replyTs: string) {
  return fake
    .callsOf('chat.update')
    .filter((c) => c.args.ts === replyTs)
    .at(-1);
}

export function blocksText(args: Record<string, unknown>): string {
  return JSON.stringify(args.blocks ?? []);
}

/** Waits for the n-th "Analyzing…" post and its final update (not a progress one), then for the job to end. */
export async function waitForReply(h: Harness, n = 1) {
  const post = await h.fake.waitFor(
    () => h.fake.callsOf('chat.postMessage').filter((c) => c.reply?.ts)[n - 1],
    20_000,
    'the Analyzing… post',
  );
  const ts = String(post.reply?.ts);
  const final = () =>
    h.fake
      .callsOf('chat.update')
      .find((c) => c.args.ts === ts && !String(c.args.text).startsWith('Analyzing'));
  await h.fake.waitFor(final, 30_000, 'the final chat.update');
  await h.bot.idle();
  const update = finalUpdate(h.fake, ts);
  if (!update) throw new Error('no final update');
  return { post, update, ts };
}

/** A `/emotion` slash command as Slack delivers it over Socket Mode, with its response_url on the fake. */
export function slashCommand(fake: FakeSlack, text: string, where: { user: string; channel: string }) {
  const id = fake.nextId('cmd');
  return {
    id,
    payload: {
      token: 'unused',
      team_id: TEAM,
      team_domain: 'fake',
      channel_id: where.channel,
      channel_name: where.channel.toLowerCase(),
      user_id: where.user,
      user_name: where.user.toLowerCase(),
      command: '/emotion',
      text,
      api_app_id: 'A0APP',
      is_enterprise_install: 'false',
      response_url: fake.responseUrl(id),
      trigger_id: fake.nextId('trig'),
    },
  };
}

/**
 * For a test file whose tests each start their own app: the returned function starts one (as startHarness
 * does) and closes it after its test; the shared classifier is closed after the file.
 */
export function harnessPerTest(): (options?: HarnessOptions) => Promise<Harness> {
  let current: Harness | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  afterAll(closeClassifier);
  return async (options = {}) => {
    current = await startHarness(options);
    return current;
  };
}
