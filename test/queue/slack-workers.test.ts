import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeSlack } from '../bots/slack/fake-slack.ts';
import { APP_TOKEN, BOT_TOKEN, fileMessage, slackFile } from '../bots/slack/harness.ts';
import { type PgServer, POSTGRES_SKIP_REASON, startPostgres } from '../storage/postgres-server.ts';
import {
  type GatewayProcess,
  slowFfmpeg,
  spawnSlackGateway,
  spawnWorker,
  testQueueSettings,
  type WorkerProcess,
} from './worker-processes.ts';

const CLIPS = Number(process.env.SCALE_CLIPS ?? 100);

/** The result's edit of a thread's "Analyzing…" message (progress edits do not name the emotions heard). */
const isResult = (args: Record<string, unknown>) => JSON.stringify(args).includes('Emotions heard in');

describe.skipIf(POSTGRES_SKIP_REASON !== undefined)(
  `the Slack app as gateways of worker processes${POSTGRES_SKIP_REASON ? ` (skipped: ${POSTGRES_SKIP_REASON})` : ''}`,
  () => {
    let server: PgServer;
    let fake: FakeSlack;
    const workers: WorkerProcess[] = [];
    const gateways: GatewayProcess[] = [];
    const manifestOnly = mkdtempSync(join(tmpdir(), 'annamalai-gateway-model-'));

    beforeAll(async () => {
      server = await startPostgres();
      copyFileSync('test/fixtures/models/tiny/manifest.json', join(manifestOnly, 'manifest.json'));
    }, 120_000);

    afterEach(async () => {
      for (const gateway of gateways.splice(0)) await gateway.stop();
      for (const worker of workers.splice(0)) await worker.stop();
      await fake?.close();
    }, 60_000);

    afterAll(async () => {
      await server?.stop();
      rmSync(manifestOnly, { recursive: true, force: true });
    }, 60_000);

    /** `start:slack` with QUEUE_URL on the model's manifest alone (loading the model would fail). */
    async function startGateway(url: string, gatewayId: string): Promise<GatewayProcess> {
      const gateway = await spawnSlackGateway(fake, {
        url,
        modelDir: manifestOnly,
        gatewayId,
        botToken: BOT_TOKEN,
        appToken: APP_TOKEN,
      });
      gateways.push(gateway);
      return gateway;
    }

    it(`2 gateways (Socket Mode, each event to one connection) + 2 workers + Postgres answer ${CLIPS} clips exactly once each`, async () => {
      fake = await FakeSlack.start();
      const settings = testQueueSettings(await server.createDatabase());
      for (let i = 0; i < 2; i++) workers.push(spawnWorker(settings));
      const one = await startGateway(settings.url, 'slack-1');
      const two = await startGateway(settings.url, 'slack-2');
      await fake.waitFor(() => fake.openConnections === 2, 20_000, 'both Socket Mode connections');

      const channels = Array.from({ length: CLIPS }, (_, i) => `D0USER${i}`);
      for (const [i, channel] of channels.entries()) {
        const file = slackFile(fake, 'speech-stereo.opus.ogg', { user: `U0USER${i}` });
        void fake.deliver(
          'events_api',
          fake.eventPayload(fileMessage(fake, channel, [file], { user: `U0USER${i}` })),
        );
      }
      const results = (channel: string) =>
        fake.callsOf('chat.update').filter((c) => c.args.channel === channel && isResult(c.args));
      await fake
        .waitFor(() => channels.every((c) => results(c).length > 0), 240_000, 'every result')
        .catch((error: unknown) => {
          const answered = channels.filter((c) => results(c).length > 0).length;
          const tail = (g: GatewayProcess) =>
            `exit ${g.child.exitCode ?? g.child.signalCode ?? 'none'}: ${g.out.text.slice(-3000)}`;
          throw new Error(
            `${String(error)}: ${answered} of ${CLIPS} answered, ${fake.acks.length} acked\n${tail(one)}\n${tail(two)}`,
          );
        });
      // A moment for any second answer to show up before counting.
      await new Promise((r) => setTimeout(r, 2000));
      for (const channel of channels) {
        const posts = fake.callsOf('chat.postMessage').filter((c) => c.args.channel === channel);
        expect(posts, channel).toHaveLength(1);
        expect(results(channel), channel).toHaveLength(1);
      }
      expect(fake.acks).toHaveLength(CLIPS);
      // Both gateways took events, and both workers analysed.
      for (const gateway of [one, two]) expect(gateway.out.text).toMatch(/analysis by workers/);
      const analysed = workers.map((w) => w.logs.filter((l) => l.msg === 'analysis job done').length);
      expect(analysed.reduce((a, b) => a + b)).toBe(CLIPS);
      expect(Math.min(...analysed)).toBeGreaterThan(0);
      const downloads = fake.fileRequests.length;
      expect(downloads).toBe(CLIPS);
      expect(one.out.text + two.out.text).not.toContain(BOT_TOKEN);
    }, 300_000);

    it('one of 2 gateways killed -9 after "Analyzing…" and started again: each clip gets its result once, the restarted one answering only its own', async () => {
      fake = await FakeSlack.start();
      const settings = testQueueSettings(await server.createDatabase());
      const slow = slowFfmpeg(4);
      try {
        const worker = spawnWorker(settings, { FFMPEG_PATH: slow.path, WORKER_CONCURRENCY: '2' });
        workers.push(worker);
        const restarted = await startGateway(settings.url, 'slack-restarted');
        const other = await startGateway(settings.url, 'slack-other');
        await fake.waitFor(() => fake.openConnections === 2, 20_000, 'both Socket Mode connections');
        // One event to each connection (the fake takes them in turn, in the order they connected).
        const channels = ['D0ALICE', 'D0BOB'];
        for (const channel of channels)
          await fake.deliver(
            'events_api',
            fake.eventPayload(fileMessage(fake, channel, [slackFile(fake, 'speech.m4a')])),
          );
        const posts = await fake.waitFor(
          () => {
            const found = fake.callsOf('chat.postMessage').filter((c) => c.reply?.ts);
            return found.length === 2 && found;
          },
          20_000,
          'both Analyzing… posts',
        );
        await fake.waitFor(
          () => worker.logs.filter((l) => l.msg === 'analysis job started').length === 2,
          20_000,
          'both jobs on the worker',
        );
        await restarted.stop();

        const again = await startGateway(settings.url, 'slack-restarted');
        const results = (ts: unknown) =>
          fake.callsOf('chat.update').filter((c) => c.args.ts === ts && isResult(c.args));
        await fake.waitFor(() => posts.every((p) => results(p.reply?.ts).length > 0), 30_000, 'both results');
        await fake.waitFor(
          () => /answered work left unfinished by the last run/.test(again.out.text),
          10_000,
          'the recovery to end',
        );
        await new Promise((r) => setTimeout(r, 1000));
        for (const post of posts) expect(results(post.reply?.ts), String(post.args.channel)).toHaveLength(1);
        expect(JSON.stringify(fake.callsOf('chat.update').map((c) => c.args))).not.toMatch(/I restarted/);
        expect(fake.callsOf('chat.postMessage')).toHaveLength(2);
        // The restarted gateway waited for its own job only; the other answered its own, live.
        expect(again.out.text).toMatch(/"answered":1,"failed":0,"awaited":1/);
        expect(other.out.text).toMatch(/"answered":0,"failed":0,"awaited":0/);
        expect(other.out.text).not.toMatch(/waiting for the workers to finish jobs/);
        expect(worker.logs.filter((l) => l.msg === 'analysis job done')).toHaveLength(2);
      } finally {
        slow.remove();
      }
    }, 120_000);
  },
);
