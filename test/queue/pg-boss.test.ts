import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JobPipeline, runJob } from '../../src/bots/shared/job.ts';
import { WorkQueue } from '../../src/bots/shared/work-queue.ts';
import { openClassifier, openServices } from '../../src/compose.ts';
import { loadConfig } from '../../src/config.ts';
import type { AnalysisQueue } from '../../src/core/analysis-queue.ts';
import { analyzePcm } from '../../src/core/analyze.ts';
import { createLogger } from '../../src/log.ts';
import { openPgBossAnalysis } from '../../src/queue/pg-boss/gateway.ts';
import { modelRunElsewhere } from '../../src/queue/remote-model.ts';
import { openPostgresStorage } from '../../src/storage/postgres/index.ts';
import { voice } from '../core/signals.ts';
import { type PgServer, POSTGRES_SKIP_REASON, startPostgres } from '../storage/postgres-server.ts';
import { recordingSurface } from '../support/surfaces.ts';
import { pcm } from '../support/twins.ts';
import {
  hangingFfmpeg,
  slowFfmpeg,
  spawnWorker,
  testQueueSettings,
  type WorkerProcess,
} from './worker-processes.ts';

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

    it('a worker killed -9 after storing the result but before completing the job: the retry stores no second analysis, and the job is answered once', async () => {
      const { settings, gateway, start } = await setUp();
      const slow = slowFfmpeg(3);
      const locker = new pg.Client({ connectionString: settings.url });
      await locker.connect();
      try {
        const first = start({ FFMPEG_PATH: slow.path });
        await first.waitForLog('worker ready: taking analysis jobs');
        const job = {
          ...audio('speech.mp3'),
          context: { ...audio('speech.mp3').context, jobId: 'journal-1' },
        };
        const answered = gateway.analyse(job, { signal: AbortSignal.timeout(90_000) });
        await first.waitForLog('analysis job started');
        // The queue's job row locked while the worker decodes: its completion will wait on it.
        const { rows } = await locker.query(
          "SELECT table_name FROM pgboss.queue WHERE name = 'annamalai-analyse'",
        );
        await locker.query('BEGIN');
        const locked = await locker.query(
          `SELECT id FROM pgboss.${String(rows[0]?.table_name)} WHERE name = 'annamalai-analyse' AND state = 'active' FOR UPDATE`,
        );
        expect(locked.rowCount).toBe(1);
        const stored = async () =>
          Number(
            (await locker.query("SELECT COUNT(*) AS n FROM analyses WHERE job_id = 'journal-1'")).rows[0]?.n,
          );
        const deadline = Date.now() + 30_000;
        while ((await stored()) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(await stored()).toBe(1);
        first.child.kill('SIGKILL');
        // Its completion, sent before it died and waiting on the lock, must not outlive it on the server.
        const ended = await locker.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        );
        expect(ended.rowCount).toBeGreaterThan(0);
        await locker.query('ROLLBACK');
        const second = start();
        const result = await answered;
        expect(result.status).toBe('ok');
        expect(second.logs.filter((l) => l.msg === 'analysis job done').map((l) => l.attempt)).toEqual([2]);
        expect(await stored()).toBe(1);
        const segments = await locker.query(
          "SELECT COUNT(*) AS n FROM segments s JOIN analyses a ON a.id = s.analysis_id WHERE a.job_id = 'journal-1'",
        );
        expect(Number(segments.rows[0]?.n)).toBe(result.status === 'ok' ? result.segments.length : -1);
      } finally {
        await locker.end();
        slow.remove();
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

    it('a gateway with QUEUE_URL starts from the model’s manifest alone: it never loads the model', async () => {
      const url = await server.createDatabase();
      const manifestOnly = mkdtempSync(join(tmpdir(), 'annamalai-manifest-'));
      copyFileSync('test/fixtures/models/tiny/manifest.json', join(manifestOnly, 'manifest.json'));
      try {
        const config = loadConfig({
          MODEL_DIR: manifestOnly,
          QUEUE_URL: url,
          DATABASE_URL: url,
          LOG_LEVEL: 'silent',
        });
        const services = await openServices(config, log, { databaseUrl: url, analysis: 'queue' });
        try {
          expect(services.analysis.kind).toBe('workers');
          expect(services.analyzer.classifier.info.labels.length).toBeGreaterThan(0);
        } finally {
          await services.close();
        }
        // The same folder cannot be loaded as a model: the gateway above really did without it.
        await expect(openServices(config, log, { databaseUrl: url })).rejects.toThrow(/model/i);
      } finally {
        rmSync(manifestOnly, { recursive: true, force: true });
      }
    }, 60_000);

    it('audio a gateway holds as PCM (voice channels) is classified by a worker, as the model here would', async () => {
      const { settings, start } = await setUp();
      start();
      const config = loadConfig({
        MODEL_DIR: 'test/fixtures/models/tiny',
        QUEUE_URL: settings.url,
        DATABASE_URL: settings.url,
        INFERENCE_WORKERS: '1',
      });
      const gateway = await openServices(config, log, { analysis: 'queue' });
      const local = await openClassifier(config, log);
      try {
        const audio = pcm(voice(7, 0.5));
        const context = { platform: 'test' };
        const remote = await analyzePcm(gateway.analyzer, audio, context);
        const here = await analyzePcm({ classifier: local, limits: gateway.analyzer.limits }, audio, context);
        expect(remote.status).toBe('ok');
        if (remote.status !== 'ok' || here.status !== 'ok') throw new Error('analysis failed');
        expect(remote.segments.length).toBe(2);
        remote.segments.forEach((segment, i) => {
          const mine = here.segments[i];
          if (segment.kind !== 'speech' || mine?.kind !== 'speech') throw new Error('expected speech');
          for (const [label, p] of Object.entries(segment.probabilities))
            expect(p).toBeCloseTo(mine.probabilities[label] ?? -1, 5);
        });
      } finally {
        await local.close();
        await gateway.close();
      }
    }, 120_000);

    /** The bots' one job pipeline as a gateway runs it: the manifest for the model, the queue for the work. */
    async function gatewayPipeline(gateway: AnalysisQueue, url: string) {
      const storage = await openPostgresStorage(url);
      const limits = { maxBytes: 25 * 1024 * 1024, maxDurationSeconds: 600, timeoutMs: 60_000 };
      const pipeline: JobPipeline = {
        analyzer: {
          decoder: {
            decode: async () => {
              throw new Error('a gateway never decodes: the worker does');
            },
          },
          classifier: await modelRunElsewhere('test/fixtures/models/tiny'),
          limits,
          store: storage.results,
        },
        analysis: gateway,
        queue: new WorkQueue({ concurrency: 4, maxQueued: 4 }),
        jobs: storage.jobs,
        log,
        replies: { limits, dialect: { platformName: 'Test', workspaceWord: 'server' } },
      };
      const request = (file: string) => ({
        checks: [],
        journal: { platform: 'test', userId: 'u1', reply: {} },
        audio: { name: file },
        download: async () => audio(file).input.bytes,
        context: { platform: 'test', userId: 'u1' },
      });
      return { pipeline, request, storage };
    }

    it('the job pipeline of a gateway answers once from the worker’s result and closes its journal entry', async () => {
      const { settings, gateway, start } = await setUp();
      start();
      const { pipeline, request, storage } = await gatewayPipeline(gateway, settings.url);
      try {
        const { shown, surface } = recordingSurface();
        await runJob(pipeline, request('speech.mp3'), surface);
        expect(shown.refused).toEqual([]);
        expect(shown.opened).toBe(1);
        expect(shown.outcomes.map((o) => o.kind)).toEqual(['ok']);
        expect(await storage.jobs.unfinished('test')).toEqual([]);
      } finally {
        await storage.close();
      }
    }, 120_000);

    it('the job pipeline answers exactly once when its worker is killed -9 mid-job and another finishes it', async () => {
      const { settings, gateway, start } = await setUp();
      const hang = hangingFfmpeg();
      const { pipeline, request, storage } = await gatewayPipeline(gateway, settings.url);
      try {
        const stuck = start({ FFMPEG_PATH: hang.path });
        const { shown, surface } = recordingSurface();
        const answered = runJob(pipeline, request('speech.mp3'), surface);
        await stuck.waitForLog('analysis job started');
        stuck.child.kill('SIGKILL');
        start();
        await answered;
        expect(shown.refused).toEqual([]);
        expect(shown.opened).toBe(1);
        expect(shown.outcomes.map((o) => o.kind)).toEqual(['ok']);
        expect(await storage.jobs.unfinished('test')).toEqual([]);
      } finally {
        hang.remove();
        await storage.close();
      }
    }, 120_000);
  },
);
