import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { envWithoutDiscord, killRunning, spawnNode } from '../../support/processes.ts';
import { FakeDiscord } from './fake-discord/server.ts';
import { type Any, fixture, sendDmVoiceNote, TOKEN } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'annamalai-discord-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let children: ChildProcess[] = [];
let fake: FakeDiscord | undefined;
afterEach(async () => {
  killRunning(children);
  children = [];
  await fake?.close();
  fake = undefined;
});

/** The real `npm start:discord` entry point as a process on `db`, its combined log text. */
function startBot(f: FakeDiscord, db: string) {
  const started = spawnNode('src/bots/discord/main.ts', {
    ...envWithoutDiscord(),
    MODEL_DIR: 'test/fixtures/models/tiny',
    INFERENCE_WORKERS: '1',
    DATABASE_PATH: db,
    LOG_LEVEL: 'info',
    DISCORD_TOKEN: TOKEN,
    DISCORD_APPLICATION_ID: f.applicationId,
    DISCORD_API_URL: f.apiUrl,
    DISCORD_CDN_HOSTS: f.cdnHost,
  });
  children.push(started.child);
  return started;
}

describe('kill -9 mid-analysis, then a restart on the same database (real processes)', () => {
  it('the waiting "Listening…" and "thinking…" replies are each edited exactly once into the restart message; nothing is posted twice', async () => {
    fake = new FakeDiscord();
    await fake.listen();
    const f = fake;
    const db = join(dir, 'kill.db');
    const first = startBot(f, db);
    await f.waitFor(() => /discord bot ready/.test(first.out.text), 20_000, 'the bot to log in');

    const release = f.holdCdn();
    const downloading = new Promise<void>((resolve) => f.once('cdn', () => resolve()));
    const { dm } = sendDmVoiceNote(f, 'dan');
    await f.waitFor(
      () => f.channelRequests(dm).find((r) => r.method === 'POST'),
      20_000,
      'the Listening… reply',
    );
    await downloading; // the voice note's job is in flight
    // A second user's /emotion file waits behind it ("thinking…").
    const { token } = f.fileCommand(
      f.user('eve'),
      f.attachment({ name: 'f.ogg', bytes: fixture('speech-stereo.opus.ogg'), contentType: 'audio/ogg' }),
    );
    await f.waitFor(
      () => f.forInteraction(token).find((q) => q.path.endsWith('/callback')),
      20_000,
      'the deferred reply',
    );
    first.child.kill('SIGKILL');
    await first.exited;
    release();

    const edits = () => f.channelRequests(dm).filter((r) => r.method === 'PATCH');
    expect(edits()).toHaveLength(0);

    const second = startBot(f, db);
    await f.waitFor(
      () => /answered work left unfinished by the last run/.test(second.out.text),
      20_000,
      'the restart recovery',
    );
    expect(edits()).toHaveLength(1);
    expect(edits()[0]?.path).toMatch(new RegExp(`/channels/${dm}/messages/\\d+$`));
    expect(String((edits()[0]?.body as Any)?.content)).toMatch(
      /I restarted before I could finish; please send it again/,
    );
    expect(second.out.text).toMatch(/"answered":2/);
    const hookEdits = f.forInteraction(token).filter((q) => q.method === 'PATCH');
    expect(hookEdits).toHaveLength(1);
    expect(String((hookEdits[0]?.body as Any)?.content)).toMatch(/I restarted before I could finish/);
    second.child.kill('SIGTERM');
    await second.exited;

    // A third start on the same database answers nobody again.
    const third = startBot(f, db);
    await f.waitFor(
      () => /answered work left unfinished by the last run/.test(third.out.text),
      20_000,
      'the third start',
    );
    expect(third.out.text).toMatch(/"answered":0/);
    expect(edits()).toHaveLength(1);
    expect(f.forInteraction(token).filter((q) => q.method === 'PATCH')).toHaveLength(1);
    expect(f.channelRequests(dm).filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(third.out.text + second.out.text + first.out.text).not.toContain(TOKEN);
  });
});

describe('the database directory deleted while the bot runs (real process)', () => {
  it('logs it loudly, DMs the owner once, and refuses new voice messages instead of analysing them', async () => {
    fake = new FakeDiscord();
    await fake.listen();
    const f = fake;
    const dataDir = join(dir, 'lost');
    mkdirSync(dataDir);
    const bot = startBot(f, join(dataDir, 'bot.db'));
    await f.waitFor(() => /discord bot ready/.test(bot.out.text), 20_000, 'the bot to log in');
    rmSync(dataDir, { recursive: true, force: true });
    await f.waitFor(() => /STORAGE LOST/.test(bot.out.text), 20_000, 'the loss to be noticed');
    const ownerDm = f.dmChannel(f.owner);
    const notice = await f.waitFor(
      () => f.channelRequests(ownerDm).find((r) => r.method === 'POST'),
      20_000,
      "the owner's DM",
    );
    expect(String((notice.body as Any)?.content)).toMatch(/lost its database/);

    const { dm } = sendDmVoiceNote(f, 'erin');
    const refusal = await f.waitFor(
      () => f.channelRequests(dm).find((r) => r.method === 'POST'),
      20_000,
      'the refusal',
    );
    expect(String((refusal.body as Any)?.content)).toMatch(/I cannot store results right now/);
    expect(f.requests.some((r) => r.path.startsWith('/attachments/'))).toBe(false);
    expect(f.channelRequests(ownerDm).filter((r) => r.method === 'POST')).toHaveLength(1);
  });
});
