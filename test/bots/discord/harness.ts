import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DiscordBot, type DiscordBotDeps } from '../../../src/bots/discord/bot.ts';
import { loadDiscordConfig } from '../../../src/bots/discord/config.ts';
import { openServices, type Services } from '../../../src/compose.ts';
import { loadConfig } from '../../../src/config.ts';
import type { AnalysisStore } from '../../../src/core/ports.ts';
import { createLogger } from '../../../src/log.ts';
import { SqliteSettingsStore } from '../../../src/storage/settings-store.ts';
import { FakeDiscord } from './fake-discord/server.ts';

/** Recorded JSON as tests dig into it. */
// biome-ignore lint/suspicious/noExplicitAny: assertions walk arbitrary recorded Discord payloads
export type Any = Record<string, any>;

export const TOKEN = 'FAKE.bot-token.ZXhhbXBsZS1zZWNyZXQtbmV2ZXItbG9nZ2Vk';
export const FIXTURES = 'test/fixtures/audio';

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, name)));
}

/** A new user `who` sends the bot a voice message (the stereo speech fixture) in their DM. */
export function sendDmVoiceNote(fake: FakeDiscord, who: string): { dm: string; messageId: string } {
  const user = fake.user(who);
  const dm = fake.dmChannel(user);
  const att = fake.attachment({
    name: 'v.ogg',
    bytes: fixture('speech-stereo.opus.ogg'),
    contentType: 'audio/ogg',
  });
  const message = fake.sendMessage(
    fake.message({ author: user, guild: false, channelId: dm, voice: true, attachments: [att] }),
  );
  return { dm, messageId: String(message.id) };
}

/** Real services (onnxruntime with the fixture model, SQLite in a temp dir), shared by a test file. */
export interface World {
  readonly services: Services;
  readonly store: AnalysisStore;
  readonly settings: SqliteSettingsStore;
  readonly dir: string;
  readonly logs: string[];
  close(): Promise<void>;
}

export async function openWorld(env: Record<string, string> = {}): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'annamalai-discord-'));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const config = loadConfig({
    MODEL_DIR: 'test/fixtures/models/tiny',
    INFERENCE_WORKERS: '1',
    INFERENCE_THREADS: '1',
    LOG_LEVEL: 'info',
    ...env,
  });
  const logger = createLogger('info', sink);
  const dbPath = join(dir, 'bot.db');
  const services = await openServices(config, logger, { databasePath: dbPath });
  const store = services.analyzer.store;
  if (!store) throw new Error('no store');
  const settings = new SqliteSettingsStore({ path: dbPath });
  return {
    services,
    store,
    settings,
    dir,
    logs,
    async close() {
      await settings.close();
      await services.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Running {
  readonly fake: FakeDiscord;
  readonly bot: DiscordBot;
  stop(): Promise<void>;
}

/** A fake Discord and a real discord.js bot logged in to it. */
export async function startBot(
  world: World,
  env: Record<string, string> = {},
  extra: Partial<DiscordBotDeps> = {},
): Promise<Running> {
  const fake = new FakeDiscord();
  await fake.listen();
  const config = loadDiscordConfig({
    DISCORD_TOKEN: TOKEN,
    DISCORD_APPLICATION_ID: fake.applicationId,
    DISCORD_API_URL: fake.apiUrl,
    DISCORD_CDN_HOSTS: fake.cdnHost,
    SHUTDOWN_GRACE_S: '5',
    ...env,
  });
  const logger = createLogger(
    'info',
    new Writable({
      write: (c, _e, d) => {
        world.logs.push(String(c));
        d();
      },
    }),
  );
  const analyzer = {
    ...world.services.analyzer,
    decoder: world.services.analyzer.decoder,
  };
  const bot = new DiscordBot({
    config,
    analyzer,
    store: world.store,
    settings: world.settings,
    logger,
    ...extra,
  });
  await bot.start();
  return {
    fake,
    bot,
    async stop() {
      if (!bot.queue.closing) await bot.shutdown(1000);
      await fake.close();
    },
  };
}

/** Discord's EPHEMERAL message flag. */
export const EPHEMERAL = 64;

/** The first ephemeral answer to an interaction (a direct reply, callback type 4, or a follow-up): its message data. */
export async function ephemeralReply(r: Pick<Running, 'fake'>, token: string): Promise<Any> {
  const q = await r.fake.waitFor(
    () =>
      r.fake
        .forInteraction(token)
        .find(
          (q) =>
            ((q.path.endsWith('/callback') && (q.body as Any)?.type === 4) ||
              (q.method === 'POST' && !q.path.endsWith('/callback'))) &&
            (((q.body as Any)?.data?.flags ?? (q.body as Any)?.flags ?? 0) & EPHEMERAL) === EPHEMERAL,
        ),
    20_000,
    'an ephemeral answer',
  );
  return (q.body as Any).data ?? q.body;
}

/** The edit that puts the result (an embed) into an interaction's deferred reply. */
export function resultEdit(r: Running, token: string) {
  return r.fake.waitFor(
    () =>
      r.fake
        .forInteraction(token)
        .find((q) => q.method === 'PATCH' && ((q.body as Any)?.embeds?.length ?? 0) > 0),
    20_000,
    'the result edit',
  );
}
