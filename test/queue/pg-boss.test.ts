import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisQueue } from '../../src/core/ports.ts';
import { createLogger } from '../../src/log.ts';
import { openPgBossAnalysis } from '../../src/queue/pg-boss/gateway.ts';
import { openPostgresStorage } from '../../src/storage/postgres/index.ts';
import { type PgServer, POSTGRES_SKIP_REASON, startPostgres } from '../storage/postgres-server.ts';
import { hangingFfmpeg, spawnWorker, testQueueSettings, type WorkerProcess } from './worker-processes.ts';

const log = createLogger('silent');
const audio = (file: string) => ({
  input: { bytes: new Uint8Array(readFileSync(`test/fixtures/audio/${file}`)), name: file },
  context: { platform: 'test', userId: 'u1', channelId: 'c1' },
});

describe.skipIf(POSTGRES_SKIP_REASON !== undefined)(
  `analysis jobs through pg-boss to worker processes${POSTGRES_SKIP_REASON ? ` (skipped: ${POSTGRES_SKIP_REASON})` : ''}`,
  () => {
    let server: PgServer;
    const workers: WorkerProcess[] = [];
    const gateways: AnalysisQueue[] = [];

    beforeAll(async () => {
      server = await startPostgres();
    }, 120_000);

    afterAll(async () => {
      for (const gateway of gateways) await gateway.close();
      for (const worker of workers) await worker.stop();
      await server?.stop();
    }, 60_000);

    async function setUp(retryLimit?: number) {
      const settings = testQueueSettings(await server.createDatabase(), retryLimit);
      const gateway = await openPgBossAnalysis(settings, log);
      gateways.push(gateway);
      const start = (env?: Record<string, string>) => {
        const worker = spawnWorker(settings, env);
        workers.push(worker);
        return worker;
      };
      return { settings, gateway, start };
    }

    it('a recording enqueued by this process is analysed by a worker process, and its result stored', async () => {
      const { settings, gateway, start } = await setUp();
      const worker = start();
      await worker.waitForLog('worker ready: taking analysis jobs');
      const result = await gateway.analyse(audio('speech-f32-16k.wav'), {
        signal: AbortSignal.timeout(60_000),
      });
      expect(gateway.kind).toBe('workers');
      expect(result.status).toBe('ok');
      if (result.status !== 'ok') return;
      expect(result.segments.some((s) => s.kind === 'speech')).toBe(true);
      const done = worker.logs.filter((l) => l.msg === 'analysis job done');
      expect(done).toHaveLength(1);
      expect(result.saved?.ok).toBe(true);
      const storage = await openPostgresStorage(settings.url);
      try {
        const id = result.saved?.ok ? result.saved.analysis.id : '';
        const stored = await storage.results.get(id);
        expect(stored?.userId).toBe('u1');
        expect(stored?.outcome.status).toBe('ok');
      } finally {
        await storage.close();
      }
    }, 120_000);

    it('a coded failure (not audio) comes back as that code, on the first attempt, without a retry', async () => {
      const { gateway, start } = await setUp();
      const worker = start();
      const result = await gateway.analyse(audio('image.png'), { signal: AbortSignal.timeout(60_000) });
      expect(result.status === 'failed' && result.error.code).toBe('audio.unsupported');
      expect(worker.logs.filter((l) => l.msg === 'analysis job started')).toHaveLength(1);
    }, 120_000);

    it('a worker killed -9 mid-job: the job finishes on another worker and is answered once', async () => {
      const { gateway, start } = await setUp();
      const hang = hangingFfmpeg();
      try {
        const stuck = start({ FFMPEG_PATH: hang.path });
        await stuck.waitForLog('worker ready: taking analysis jobs');
        const answered = gateway.analyse(audio('speech.mp3'), { signal: AbortSignal.timeout(90_000) });
        await stuck.waitForLog('analysis job started');
        stuck.child.kill('SIGKILL');
        const other = start();
        const result = await answered;
        expect(result.status).toBe('ok');
        const attempts = other.logs.filter((l) => l.msg === 'analysis job done').map((l) => l.attempt);
        expect(attempts).toEqual([2]);
        expect(stuck.logs.some((l) => l.msg === 'analysis job done')).toBe(false);
      } finally {
        hang.remove();
      }
    }, 120_000);

    it('a job whose retries are spent fails with the coded inference.failed the gateway answers with', async () => {
      const { gateway, start } = await setUp(0);
      const hang = hangingFfmpeg();
      try {
        const stuck = start({ FFMPEG_PATH: hang.path });
        const answered = gateway.analyse(audio('speech.mp3'), { signal: AbortSignal.timeout(90_000) });
        await stuck.waitForLog('analysis job started');
        stuck.child.kill('SIGKILL');
        const result = await answered;
        expect(result.status === 'failed' && result.error.code).toBe('inference.failed');
      } finally {
        hang.remove();
      }
    }, 120_000);
  },
);
