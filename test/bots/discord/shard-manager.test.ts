import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PLATFORM } from '../../../src/bots/discord/messages.ts';
import { openStorage } from '../../../src/storage/open.ts';
import {
  spawnDiscordGateway,
  spawnWorker,
  testQueueSettings,
  type WorkerProcess,
} from '../../queue/worker-processes.ts';
import { type PgServer, POSTGRES_SKIP_REASON, startPostgres } from '../../storage/postgres-server.ts';
import { envWithoutDiscord, spawnNode } from '../../support/processes.ts';
import { FakeDiscord, type FakeGuild, shardOf } from './fake-discord/server.ts';
import { type Any, ephemeralReply, fixture, TOKEN } from './harness.ts';

const NOTES = 100;
const DAY_MS = 24 * 60 * 60_000;

/**
 * The Discord bot sharded as Discord shards it: DISCORD_SHARDS=auto, the fake Discord recommending 2, so
 * the bot's entry point runs discord.js's ShardingManager and two shard processes, each identified as its
 * shard and sent only its servers' events; two `annamalai worker` processes analyse; one Postgres for all.
 */
describe.skipIf(POSTGRES_SKIP_REASON !== undefined)(
  `Discord shards as separate processes${POSTGRES_SKIP_REASON ? ` (skipped: ${POSTGRES_SKIP_REASON})` : ''}`,
  () => {
    let server: PgServer;
    let fake: FakeDiscord;
    let url: string;
    let gateway: Awaited<ReturnType<typeof spawnDiscordGateway>> | undefined;
    const workers: WorkerProcess[] = [];
    const manifestOnly = mkdtempSync(join(tmpdir(), 'annamalai-shards-model-'));
    /** Two servers on shard 0 and two on shard 1 (the fake's default server is on either). */
    let guilds: FakeGuild[] = [];

    beforeAll(async () => {
      server = await startPostgres();
      fake = new FakeDiscord({ recommendedShards: 2 });
      await fake.listen();
      guilds = [0, 0, 1, 1].map((id) => fake.addGuild({ id, count: 2 }));
      copyFileSync('test/fixtures/models/tiny/manifest.json', join(manifestOnly, 'manifest.json'));
      url = await server.createDatabase();
      const settings = testQueueSettings(url);
      for (let i = 0; i < 2; i++) workers.push(spawnWorker(settings));
      gateway = await spawnDiscordGateway(fake, {
        url,
        modelDir: manifestOnly,
        token: TOKEN,
        env: { DISCORD_SHARDS: 'auto', DISCORD_MESSAGE_CONTENT_INTENT: 'true' },
        ready: /every discord shard ready/,
      });
    }, 180_000);

    afterAll(async () => {
      // The graceful stop: the manager stops each shard process and waits for it.
      await gateway?.stop('SIGTERM');
      for (const worker of workers) await worker.stop();
      await fake?.close();
      await server?.stop();
      rmSync(manifestOnly, { recursive: true, force: true });
    }, 90_000);

    it('runs one process per shard of the count Discord recommends, each identified as its shard', async () => {
      expect(fake.identifiedShards.map((s) => s.join('/')).sort()).toEqual(['0/2', '1/2']);
      // Each shard starts its scheduler after READY; the manager's "every shard ready" can come first.
      await vi.waitFor(
        () => {
          const lines = logLines(gateway?.out.text ?? '');
          const started = lines
            .filter((l) => l.msg === 'discord digest scheduler started')
            .map((l) => l.shard);
          expect(started.sort()).toEqual([0, 1]);
        },
        { timeout: 30_000, interval: 200 },
      );
      expect(gateway?.out.text).not.toContain(TOKEN);
    });

    it('/emotion settings reaches only the shard that holds the server and is answered once, in each server', async () => {
      const admin = fake.user('admin');
      for (const guild of guilds) {
        const before = fake.dispatched.length;
        const { token } = fake.slash(admin, 'settings', [{ type: 5, name: 'auto', value: true }], {
          admin: true,
          in: guild,
        });
        expect(fake.dispatched.slice(before)).toEqual([
          { t: 'INTERACTION_CREATE', shard: shardOf(guild.id, 2), delivered: true },
        ]);
        const answer = await ephemeralReply({ fake }, token);
        expect(answer.content).toMatch(
          new RegExp(`Auto-analysis of voice messages in: <#${guild.textChannelId}>`),
        );
        expect(fake.forInteraction(token).filter((r) => r.path.endsWith('/callback'))).toHaveLength(1);
      }
    }, 60_000);

    it(`${NOTES} voice notes in servers on both shards are each answered exactly once, with a result; a digest due for channels on one and on both shards is posted once per channel`, async () => {
      // Digests due now (yesterday's daily 00:00 period, active since before it) for two channels on
      // shard 0 and one on shard 1: both shard processes' schedulers look every minute, on the minute, so
      // they reach each of them at the same moment and the database's claim decides who posts.
      const storage = await openStorage({ kind: 'postgres', url });
      const digestChannels = [guilds[0], guilds[1], guilds[2]] as FakeGuild[];
      try {
        for (const guild of digestChannels)
          await storage.digests.updateConfig(
            { platform: PLATFORM, workspaceId: guild.id, channelId: guild.textChannelId },
            { enabled: true, schedule: 'daily 00:00', emptyLine: true },
            {
              targetChannelId: guild.textChannelId,
              enabled: false,
              schedule: 'daily 00:00',
              timeZone: 'UTC',
              emptyLine: true,
            },
            new Date(Date.now() - 2 * DAY_MS),
          );
      } finally {
        await storage.close();
      }

      const notes = new Map<string, string[]>(guilds.map((g) => [g.textChannelId, []]));
      const before = fake.dispatched.length;
      for (let i = 0; i < NOTES; i++) {
        const guild = guilds[i % guilds.length] as FakeGuild;
        const att = fake.attachment({
          name: `v${i}.ogg`,
          bytes: fixture('speech-stereo.opus.ogg'),
          contentType: 'audio/ogg',
        });
        const note = fake.sendMessage(
          fake.message({ author: fake.user(`speaker${i}`), in: guild, voice: true, attachments: [att] }),
        );
        notes.get(guild.textChannelId)?.push(String(note.id));
      }
      // Each note went to its server's shard alone.
      expect(fake.dispatched.slice(before)).toEqual(
        Array.from({ length: NOTES }, (_, i) => ({
          t: 'MESSAGE_CREATE',
          shard: shardOf((guilds[i % guilds.length] as FakeGuild).id, 2),
          delivered: true,
        })),
      );

      const replies = (channel: string) =>
        fake
          .channelRequests(channel)
          .filter((r) => r.method === 'POST' && (r.body as Any)?.message_reference !== undefined);
      const results = (channel: string) =>
        fake
          .channelRequests(channel)
          .filter((r) => r.method === 'PATCH' && ((r.body as Any)?.embeds?.length ?? 0) > 0);
      const digests = (channel: string) =>
        fake
          .channelRequests(channel)
          .filter((r) => r.method === 'POST' && (r.body as Any)?.message_reference === undefined);
      await fake.waitFor(
        () =>
          guilds.every((g) => results(g.textChannelId).length >= (notes.get(g.textChannelId)?.length ?? 0)),
        150_000,
        'every result',
      );
      await fake.waitFor(
        () => digestChannels.every((g) => digests(g.textChannelId).length > 0),
        90_000,
        'every digest',
      );
      // Both schedulers' ticks of that minute are over well before now: anything twice would show.
      await new Promise((resolve) => setTimeout(resolve, 3_000));

      for (const guild of guilds) {
        const sent = notes.get(guild.textChannelId) ?? [];
        const referenced = replies(guild.textChannelId).map(
          (r) => (r.body as Any).message_reference.message_id,
        );
        expect(referenced.sort()).toEqual([...sent].sort());
        const edited = results(guild.textChannelId).map((r) => r.path);
        expect(new Set(edited).size).toBe(sent.length);
        expect(edited).toHaveLength(sent.length);
      }
      const done = workers.flatMap((w) => w.logs.filter((l) => l.msg === 'analysis job done'));
      expect(done).toHaveLength(NOTES);
      expect(workers.every((w) => w.logs.some((l) => l.msg === 'analysis job done'))).toBe(true);

      for (const guild of digestChannels) expect(digests(guild.textChannelId)).toHaveLength(1);
      expect(digests((guilds[3] as FakeGuild).textChannelId)).toHaveLength(0);
      const logs = logLines(gateway?.out.text ?? '');
      expect(logs.filter((l) => l.msg === 'digest posted')).toHaveLength(digestChannels.length);
      // Whichever shard claimed a digest could post it, its server on this shard or not.
      expect(logs.filter((l) => l.msg === 'digest post failed')).toEqual([]);
    }, 300_000);

    it("/emotion listen in a server on shard 1 asks to join that server's voice channel over shard 1's connection", async () => {
      const guild = guilds[2] as FakeGuild;
      const user = fake.user('voice-speaker');
      fake.dispatch('VOICE_STATE_UPDATE', {
        guild_id: guild.id,
        channel_id: guild.voiceChannelId,
        user_id: user.id,
        member: fake.member(user),
        session_id: 'vs-shard-1',
        deaf: false,
        mute: false,
        self_deaf: false,
        self_mute: false,
        self_video: false,
        suppress: false,
        request_to_speak_timestamp: null,
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const { token } = fake.slash(user, 'listen', [{ type: 4, name: 'seconds', value: 30 }], { in: guild });
      const notice = await fake.waitFor(
        () => fake.forInteraction(token).find((q) => (q.body as Any)?.type === 4),
        20_000,
        'the listening notice',
      );
      expect((notice.body as Any).data.content).toMatch(
        new RegExp(`Listening in <#${guild.voiceChannelId}>`),
      );
      const join = await fake.waitFor(
        () => {
          const i = fake.voiceStates.findIndex((v) => v.channel_id === guild.voiceChannelId);
          return i >= 0 ? i : undefined;
        },
        20_000,
        'the join request',
      );
      expect(fake.voiceStates[join]).toMatchObject({ guild_id: guild.id, self_deaf: false });
      expect(fake.voiceStateShards[join]).toBe(1);
    }, 60_000);

    it("a shard process killed -9 is started again and answers its servers; another shard's work in flight meanwhile is answered once, by that shard", async () => {
      const started = () =>
        logLines(gateway?.out.text ?? '').filter((l) => l.msg === 'discord shard process started');
      const pidOf = (shard: number) => started().findLast((l) => l.shard === shard)?.pid as number;
      const readyLines = (shard: number) =>
        logLines(gateway?.out.text ?? '').filter((l) => l.msg === 'discord bot ready' && l.shard === shard);
      const one = guilds[2] as FakeGuild;
      const victim = pidOf(1);
      const readyBefore = readyLines(1).length;

      // A DM note (DMs are shard 0's) stays in flight, its download held, while shard 1 dies and starts
      // again: the restarted shard 1 answers the work its predecessor left, not shard 0's.
      const release = fake.holdCdn();
      const user = fake.user('dm-during-restart');
      const dm = fake.dmChannel(user);
      const inFlight = sendNote(fake, { author: user, guild: false, channelId: dm });
      await fake.waitFor(() => replyTo(fake, dm, inFlight), 20_000, 'the waiting reply');
      process.kill(victim, 'SIGKILL');
      await fake.waitFor(() => readyLines(1).length > readyBefore, 120_000, 'shard 1 to be ready again');
      expect(pidOf(1)).not.toBe(victim);
      expect(fake.identifiedShards.filter(([id]) => id === 1).length).toBeGreaterThanOrEqual(2);
      release();

      const after = sendNote(fake, { author: fake.user('after-restart'), in: one });
      for (const [channel, note] of [
        [dm, inFlight],
        [one.textChannelId, after],
      ] as const) {
        const reply = await fake.waitFor(() => replyTo(fake, channel, note), 60_000, 'the reply');
        await fake.waitFor(() => edits(fake, channel, reply).some(hasEmbed), 60_000, 'the result');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        expect(edits(fake, channel, reply)).toHaveLength(1);
      }
    }, 240_000);

    it('the shard processes stop by themselves when their manager is killed -9', async () => {
      const lines = logLines(gateway?.out.text ?? '').filter(
        (l) => l.msg === 'discord shard process started',
      );
      const pids = [0, 1].map((shard) => lines.findLast((l) => l.shard === shard)?.pid as number);
      expect(pids.every(alive)).toBe(true);
      await gateway?.stop('SIGKILL');
      await fake.waitFor(() => !pids.some(alive), 60_000, 'the shard processes to exit');
    }, 90_000);

    it('spread over machines: DISCORD_SHARDS=2 with DISCORD_SHARD_IDS=1 runs shard 1 alone', async () => {
      const other = new FakeDiscord();
      await other.listen();
      const machine = await spawnDiscordGateway(other, {
        url: await server.createDatabase(),
        modelDir: manifestOnly,
        token: TOKEN,
        env: { DISCORD_SHARDS: '2', DISCORD_SHARD_IDS: '1' },
        ready: /every discord shard ready/,
      });
      try {
        expect(other.identifiedShards).toEqual([[1, 2]]);
        // A DM is shard 0's, which this machine does not run: Discord would hold it for the other machine.
        sendNote(other, { author: other.user('dm'), guild: false, channelId: '1234567890123456789' });
        expect(other.dispatched.at(-1)).toEqual({ t: 'MESSAGE_CREATE', shard: 0, delivered: false });
      } finally {
        await machine.stop('SIGTERM');
        await other.close();
      }
      expect(machine.child.exitCode).toBe(0);
    }, 120_000);
  },
);

describe('the Discord shard manager when a shard cannot start', () => {
  it("stops, prints the shard's reason and its own, and exits 78 as a single process would", async () => {
    const fake = new FakeDiscord({ recommendedShards: 2 });
    await fake.listen();
    try {
      const { child, out, exited } = spawnNode('src/bots/discord/main.ts', {
        ...envWithoutDiscord(),
        LOG_LEVEL: 'warn',
        MODEL_DIR: 'test/fixtures/models/tiny',
        // Nothing listens on port 1: the shard process refuses to start, as it would alone.
        DATABASE_URL: 'postgres://annamalai:secret@127.0.0.1:1/annamalai',
        DISCORD_SHARDS: 'auto',
        DISCORD_TOKEN: TOKEN,
        DISCORD_APPLICATION_ID: fake.applicationId,
        DISCORD_API_URL: fake.apiUrl,
      });
      await exited;
      expect(child.exitCode).toBe(78);
      expect(out.text).toMatch(/DATABASE_URL: cannot open postgres .*ECONNREFUSED/);
      expect(out.text).toMatch(/A Discord shard process did not start: Shard 0's process exited/);
      expect(out.text).not.toContain(TOKEN);
      expect(out.text).not.toContain('secret');
    } finally {
      await fake.close();
    }
  }, 60_000);
});

/** A voice note (a server's, or a DM with `guild: false, channelId`); returns its message id. */
function sendNote(
  fake: FakeDiscord,
  where: Omit<Parameters<FakeDiscord['message']>[0], 'voice' | 'attachments'>,
): string {
  const att = fake.attachment({
    name: `${where.author.username}.ogg`,
    bytes: fixture('speech-stereo.opus.ogg'),
    contentType: 'audio/ogg',
  });
  return String(fake.sendMessage(fake.message({ ...where, voice: true, attachments: [att] })).id);
}

/** The id of the bot's reply to `noteId` (the message that says "Listening…" and becomes the result). */
function replyTo(fake: FakeDiscord, channelId: string, noteId: string): string | undefined {
  const post = fake
    .channelRequests(channelId)
    .find((r) => r.method === 'POST' && (r.body as Any)?.message_reference?.message_id === noteId);
  return (post?.response as Any | undefined)?.id;
}

function edits(fake: FakeDiscord, channelId: string, replyId: string) {
  return fake
    .channelRequests(channelId)
    .filter((r) => r.method === 'PATCH' && r.path.endsWith(`/messages/${replyId}`));
}

function hasEmbed(r: { body: Any | undefined }): boolean {
  return ((r.body as Any)?.embeds?.length ?? 0) > 0;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function logLines(text: string): Any[] {
  return text.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as Any];
    } catch {
      return [];
    }
  });
}
