import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscord } from '../bots/discord/fake-discord/server.ts';
import { type Any, fixture, TOKEN } from '../bots/discord/harness.ts';
import { type PgServer, POSTGRES_SKIP_REASON, startPostgres } from '../storage/postgres-server.ts';
import {
  hangingFfmpeg,
  slowFfmpeg,
  spawnDiscordGateway,
  spawnWorker,
  testQueueSettings,
  type WorkerProcess,
} from './worker-processes.ts';

const NOTES = 8;

describe.skipIf(POSTGRES_SKIP_REASON !== undefined)(
  `the Discord bot as a gateway of worker processes${POSTGRES_SKIP_REASON ? ` (skipped: ${POSTGRES_SKIP_REASON})` : ''}`,
  () => {
    let server: PgServer;
    let fake: FakeDiscord;
    const workers: WorkerProcess[] = [];
    const manifestOnly = mkdtempSync(join(tmpdir(), 'annamalai-gateway-model-'));

    beforeAll(async () => {
      server = await startPostgres();
      fake = new FakeDiscord();
      await fake.listen();
      copyFileSync('test/fixtures/models/tiny/manifest.json', join(manifestOnly, 'manifest.json'));
    }, 120_000);

    afterAll(async () => {
      await stopGateways();
      for (const worker of workers) await worker.stop();
      await fake?.close();
      await server?.stop();
      rmSync(manifestOnly, { recursive: true, force: true });
    }, 60_000);

    const gateways: { stop(): Promise<void> }[] = [];
    /** Ends every gateway started so far: one bot token, one connected gateway per test. */
    async function stopGateways(): Promise<void> {
      for (const gateway of gateways.splice(0)) await gateway.stop();
    }

    /** The Discord entry point with QUEUE_URL, on the model's manifest alone (loading the model would fail). */
    async function startGateway(url: string): Promise<{ text: string }> {
      return (await startGatewayProcess(url)).out;
    }

    async function startGatewayProcess(url: string) {
      const gateway = await spawnDiscordGateway(fake, { url, modelDir: manifestOnly, token: TOKEN });
      gateways.push(gateway);
      return gateway;
    }

    it(`${NOTES} voice notes are each answered once with a result by a gateway that has only the model's manifest, analysed by 2 workers`, async () => {
      const settings = testQueueSettings(await server.createDatabase());
      for (let i = 0; i < 2; i++) workers.push(spawnWorker(settings));
      const out = await startGateway(settings.url);

      const dms: string[] = [];
      for (let i = 0; i < NOTES; i++) {
        const user = fake.user(`user${i}`);
        const dm = fake.dmChannel(user);
        dms.push(dm);
        const att = fake.attachment({
          name: `v${i}.ogg`,
          bytes: fixture('speech-stereo.opus.ogg'),
          contentType: 'audio/ogg',
        });
        fake.sendMessage(
          fake.message({ author: user, guild: false, channelId: dm, voice: true, attachments: [att] }),
        );
      }
      const results = (dm: string) =>
        fake
          .channelRequests(dm)
          .filter((r) => r.method === 'PATCH' && ((r.body as Any)?.embeds?.length ?? 0) > 0);
      await fake.waitFor(() => dms.every((dm) => results(dm).length > 0), 60_000, 'every result');
      for (const dm of dms) {
        expect(fake.channelRequests(dm).filter((r) => r.method === 'POST')).toHaveLength(1);
        expect(results(dm)).toHaveLength(1);
      }
      const done = workers.flatMap((w) => w.logs.filter((l) => l.msg === 'analysis job done'));
      expect(done).toHaveLength(NOTES);
      expect(out.text).toMatch(/analysis by workers through the job queue/);
      expect(out.text).not.toContain(TOKEN);
      await stopGateways();
    }, 150_000);

    it('a worker killed -9 mid-job: the audio file is answered once, with its result, after another worker takes it', async () => {
      const settings = testQueueSettings(await server.createDatabase());
      const hang = hangingFfmpeg();
      try {
        const stuck = spawnWorker(settings, { FFMPEG_PATH: hang.path });
        workers.push(stuck);
        await startGateway(settings.url);
        const user = fake.user('mp3-sender');
        const dm = fake.dmChannel(user);
        const att = fake.attachment({
          name: 'note.mp3',
          bytes: fixture('speech.mp3'),
          contentType: 'audio/mpeg',
        });
        fake.sendMessage(fake.message({ author: user, guild: false, channelId: dm, attachments: [att] }));
        await stuck.waitForLog('analysis job started');
        stuck.child.kill('SIGKILL');
        const other = spawnWorker(settings);
        workers.push(other);
        const results = () =>
          fake
            .channelRequests(dm)
            .filter((r) => r.method === 'PATCH' && ((r.body as Any)?.embeds?.length ?? 0) > 0);
        await fake.waitFor(() => results().length > 0, 60_000, 'the result');
        expect(fake.channelRequests(dm).filter((r) => r.method === 'POST')).toHaveLength(1);
        expect(results()).toHaveLength(1);
        expect(other.logs.filter((l) => l.msg === 'analysis job done').map((l) => l.attempt)).toEqual([2]);
      } finally {
        await stopGateways();
        hang.remove();
      }
    }, 150_000);

    it('the gateway killed -9 after "Listening…" and started again: the result the worker finishes replaces "Listening…", once', async () => {
      const settings = testQueueSettings(await server.createDatabase());
      const slow = slowFfmpeg(4);
      try {
        const worker = spawnWorker(settings, { FFMPEG_PATH: slow.path });
        workers.push(worker);
        const first = await startGatewayProcess(settings.url);
        const user = fake.user('restart-sender');
        const dm = fake.dmChannel(user);
        const att = fake.attachment({
          name: 'note.mp3',
          bytes: fixture('speech.mp3'),
          contentType: 'audio/mpeg',
        });
        fake.sendMessage(fake.message({ author: user, guild: false, channelId: dm, attachments: [att] }));
        await fake.waitFor(
          () => fake.channelRequests(dm).some((r) => r.method === 'POST'),
          20_000,
          'the Listening… reply',
        );
        await worker.waitForLog('analysis job started');
        await first.stop();

        const second = await startGatewayProcess(settings.url);
        const edits = () => fake.channelRequests(dm).filter((r) => r.method === 'PATCH');
        const results = () => edits().filter((r) => ((r.body as Any)?.embeds?.length ?? 0) > 0);
        await fake.waitFor(() => results().length > 0, 30_000, 'the result');
        await fake.waitFor(
          () => /answered work left unfinished by the last run/.test(second.out.text),
          10_000,
          'the recovery to end',
        );
        expect(results()).toHaveLength(1);
        expect(JSON.stringify(edits().map((r) => r.body))).not.toMatch(/I restarted/);
        expect(fake.channelRequests(dm).filter((r) => r.method === 'POST')).toHaveLength(1);
        // Answered once, from the store: awaited while the worker was still on it at the restart (the usual
        // case, the slow decoder holds it), or at once if a loaded machine restarted the gateway after the
        // worker had finished; either way never the restart message.
        expect(second.out.text).toMatch(/"answered":1,"failed":0,"awaited":[01]/);
      } finally {
        await stopGateways();
        slow.remove();
      }
    }, 120_000);
  },
);
