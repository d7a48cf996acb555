import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, jsonLines } from '../cli/run-cli.ts';
import { type PgServer, POSTGRES_SKIP_REASON, startPostgres } from '../storage/postgres-server.ts';
import { killRunning, spawnNode } from '../support/processes.ts';
import { spawnWorker, testQueueSettings, type WorkerProcess } from './worker-processes.ts';

const SPEECH = 'test/fixtures/audio/speech.webm';

async function webAnalyses(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query("SELECT COUNT(*) AS n FROM analyses WHERE platform = 'web'");
    return Number(rows[0]?.n);
  } finally {
    await client.end();
  }
}

describe.skipIf(POSTGRES_SKIP_REASON !== undefined)(
  `annamalai serve and analyze on Postgres and the job queue${POSTGRES_SKIP_REASON ? ` (skipped: ${POSTGRES_SKIP_REASON})` : ''}`,
  () => {
    let server: PgServer;
    const workers: WorkerProcess[] = [];
    const manifestOnly = mkdtempSync(join(tmpdir(), 'annamalai-web-model-'));

    beforeAll(async () => {
      server = await startPostgres();
      copyFileSync('test/fixtures/models/tiny/manifest.json', join(manifestOnly, 'manifest.json'));
    }, 120_000);

    afterAll(async () => {
      for (const worker of workers) await worker.stop();
      await server?.stop();
      rmSync(manifestOnly, { recursive: true, force: true });
    }, 60_000);

    it('with QUEUE_URL, serve has only the manifest and answers an upload through a worker, which stores it in Postgres', async () => {
      const settings = testQueueSettings(await server.createDatabase());
      const worker = spawnWorker(settings);
      workers.push(worker);
      const { child, out, exited } = spawnServe({
        MODEL_DIR: manifestOnly,
        QUEUE_URL: settings.url,
        DATABASE_URL: settings.url,
        LOG_LEVEL: 'info',
      });
      try {
        const match = await waitForText(out, /listening on (http:\/\/[^\s]+)\//, 30_000);
        const base = match[1];
        const answer = await fetch(`${base}/api/v1/analyze?name=speech.webm`, {
          method: 'POST',
          body: readFileSync(SPEECH),
          headers: { 'content-type': 'audio/webm' },
        });
        const body = (await answer.json()) as { segments?: unknown[]; model?: { fixture?: boolean } };
        expect(answer.status, JSON.stringify(body)).toBe(200);
        expect(body.segments?.length).toBeGreaterThan(0);
        expect(body.model?.fixture).toBe(true);
        expect(answer.headers.get('x-analysis-id')).toBeTruthy();
        expect(worker.logs.filter((l) => l.msg === 'analysis job done')).toHaveLength(1);
        expect(await webAnalyses(settings.url)).toBe(1);
        const ready = (await (await fetch(`${base}/readyz`)).json()) as Record<string, unknown>;
        expect(ready).toMatchObject({ status: 'ready', model: { state: 'in workers' }, database: 'ok' });
        expect(out.text).toMatch(/analysis by workers through the job queue/);
      } finally {
        killRunning([child]);
        await exited;
      }
    }, 90_000);

    it('with QUEUE_URL but no Postgres database, serve refuses to start and says what to give (exit 2)', async () => {
      const run = await cli(['serve', '--port', '0'], {
        QUEUE_URL: await server.createDatabase(),
        DATABASE_URL: '',
      });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/serve with QUEUE_URL needs the workers' Postgres database/);
    });

    it('analyze --db postgres://… stores the results in Postgres', async () => {
      const url = await server.createDatabase();
      const run = await cli(['analyze', '--format', 'json', '--db', url, SPEECH]);
      expect(run.code, run.stderr).toBe(0);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query("SELECT COUNT(*) AS n FROM analyses WHERE platform = 'cli'");
        expect(Number(rows[0]?.n)).toBe(1);
      } finally {
        await client.end();
      }
    });

    it('analyze --db postgres://… --speaker keeps the voice baseline in Postgres and judges the third file against it', async () => {
      const url = await server.createDatabase();
      const files = [
        'samples/hello.ogg',
        'test/fixtures/audio/speech.flac',
        'test/fixtures/audio/speech.mp3',
      ];
      const run = await cli(['analyze', '--format', 'json', '--db', url, '--speaker', 'ann', ...files], {
        MODEL_DIR: 'test/fixtures/models/tiny-single',
      });
      expect(run.code, run.stderr).toBe(0);
      const notes = jsonLines(run.stdout).map((l) => (l as { summary: { notes: string[] } }).summary.notes);
      expect(notes.map((n) => n.includes('Compared with your usual voice, 2 recordings.'))).toEqual([
        false,
        false,
        true,
      ]);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query(
          "SELECT user_id, count FROM voice_baselines WHERE platform = 'cli'",
        );
        expect(rows).toEqual([{ user_id: 'ann', count: 3 }]);
      } finally {
        await client.end();
      }
    });
  },
);

/** `annamalai serve --port 0` as a real process: its combined output, as it arrives. */
function spawnServe(env: Record<string, string>) {
  return spawnNode('src/cli/main.ts', { ...process.env, ...env }, ['serve', '--port', '0']);
}

async function waitForText(out: { text: string }, pattern: RegExp, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(out.text);
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`never printed ${pattern}:\n${out.text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
