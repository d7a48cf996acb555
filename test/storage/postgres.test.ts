import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openBotRuntime, RuntimeConfigError } from '../../src/bots/runtime.ts';
import { loadConfig } from '../../src/config.ts';
import { type AnnamalaiError, isAnnamalaiError } from '../../src/core/errors.ts';
import type { StorageHealth } from '../../src/core/ports.ts';
import { PgDatabase } from '../../src/storage/postgres/database.ts';
import { openPostgresStorage } from '../../src/storage/postgres/index.ts';
import { captureLogs } from '../support/logs.ts';
import { BACKENDS, title, useBackend } from './backends.ts';
import { startPostgres } from './postgres-server.ts';

const [sqlite, postgres] = BACKENDS;
if (!sqlite || !postgres) throw new Error('internal: backends');

async function rejection(promise: Promise<unknown>): Promise<AnnamalaiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isAnnamalaiError(error)) throw new Error(`expected an AnnamalaiError, got ${String(error)}`);
  return error;
}

/** Resolves at the next health change to `state` (the test's timeout bounds the wait). */
function next(
  health: { onChange(l: (h: StorageHealth) => void): () => void },
  state: StorageHealth['state'],
) {
  return new Promise<StorageHealth>((resolve) => {
    const off = health.onChange((h) => {
      if (h.state !== state) return;
      off();
      resolve(h);
    });
  });
}

describe('DATABASE_URL in the configuration', () => {
  it('accepts postgres:// and postgresql:// URLs, treats an empty one as unset, and refuses others without echoing them', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/a' }).DATABASE_URL).toBe(
      'postgres://u:p@db:5432/a',
    );
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/a' }).DATABASE_URL).toBe('postgresql://db/a');
    expect(loadConfig({ DATABASE_URL: '' }).DATABASE_URL).toBeUndefined();
    expect(() => loadConfig({ DATABASE_URL: 'mysql://u:hunter22@db/a' })).toThrow(
      /DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/,
    );
    expect(() => loadConfig({ DATABASE_URL: 'mysql://u:hunter22@db/a' })).not.toThrow(/hunter22/);
  });
});

describe.skipIf(postgres.skip)(title(postgres, 'adapter'), () => {
  const env = useBackend(postgres);
  const lite = useBackend(sqlite);

  it('has the SQLite schema: the same migration versions, tables and columns (plus seq, its stand-in for rowid)', async () => {
    expect(postgres.migrations.map((m) => m.version)).toEqual(sqlite.migrations.map((m) => m.version));
    const pgLocation = await env.fresh();
    const sqliteLocation = await lite.fresh();
    await env.open(pgLocation);
    await lite.open(sqliteLocation);
    const pgColumns = await env.sql(
      pgLocation,
      "SELECT table_name || '.' || column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND column_name <> 'seq'",
    );
    const sqliteColumns = await lite.sql(
      sqliteLocation,
      "SELECT m.name || '.' || p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'",
    );
    const names = (rows: { c?: unknown }[]) => rows.map((r) => String(r.c)).sort();
    expect(names(pgColumns)).toEqual(names(sqliteColumns));
    expect(names(pgColumns).length).toBeGreaterThan(50);
  });

  it('three pools opening a new database at once (as three processes starting together) migrate it exactly once: the advisory lock', async () => {
    const location = await env.fresh();
    const opened = await Promise.all([1, 2, 3].map(() => env.open(location)));
    const latest = postgres.migrations.at(-1)?.version;
    expect(opened.map((s) => s.schemaVersion)).toEqual([latest, latest, latest]);
    expect(await env.count(location, 'schema_migrations')).toBe(postgres.migrations.length);
  });

  it('a server that does not answer at open: storage.unavailable naming it without its password, and no log holds the password', async () => {
    const server = env.server();
    if (!server) throw new Error('no server');
    const { logs, logger } = captureLogs();
    const url = (await env.fresh()).replace(/:(\d+)\//, ':1/');
    const error = await rejection(openPostgresStorage(url, { logger, connectTimeoutMs: 2000 }));
    expect(error.code).toBe('storage.unavailable');
    expect(error.message).toContain(`cannot open postgres postgres://annamalai:***@127.0.0.1:1/`);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect([error.message, ...logs].join('\n')).not.toContain(server.password);
  });

  it('a wrong password at open: storage.unavailable saying authentication failed, without the password', async () => {
    const url = (await env.fresh()).replace(/:[0-9a-f]+@/, ':not-the-Passw0rd@');
    const error = await rejection(openPostgresStorage(url, { connectTimeoutMs: 2000 }));
    expect(error.code).toBe('storage.unavailable');
    expect(error.message).toContain('password authentication failed');
    expect(error.message).not.toContain('not-the-Passw0rd');
  });

  it('a claim held up by a lock past the statement timeout fails with storage.failed (logged), and the next one lands', async () => {
    const location = await env.fresh();
    const { logs, logger } = captureLogs();
    const storage = await openPostgresStorage(location, { logger, statementTimeoutMs: 300 });
    const locker = new pg.Client({ connectionString: location });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE digest_runs IN ACCESS EXCLUSIVE MODE');
    const key = { platform: 'slack', workspaceId: 'T', channelId: 'C', periodStart: 1 };
    const error = await rejection(storage.digests.claim(key, 2, 'a', new Date()));
    expect(error.code).toBe('storage.failed');
    expect(error.message).toContain('statement timeout');
    expect(logs.join('')).toContain('storage failed');
    await locker.query('ROLLBACK');
    await locker.end();
    expect(await storage.digests.claim(key, 2, 'a', new Date())).toBe(true);
    expect(storage.health.health().state).toBe('ok');
    await storage.close();
  });

  it('a connection killed in the middle of a transaction fails it with storage.unavailable, without crashing the process, and the pool goes on', async () => {
    const location = await env.fresh();
    const db = await PgDatabase.open({ url: location });
    const admin = new pg.Client({ connectionString: location });
    await admin.connect();
    try {
      const error = await rejection(
        db.transaction(async (tx) => {
          const { rows } = await tx.query('SELECT pg_backend_pid() AS pid');
          await admin.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
          // Killed while none of our queries runs: the connection reports it as an 'error' event.
          await sleep(300);
          await tx.query('SELECT 1');
        }),
      );
      expect(error.code).toBe('storage.unavailable');
      expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await admin.end();
      await db.close();
    }
  });

  it('the bots open their stores on DATABASE_URL when it is set, and refuse to start with one clear line when it cannot be opened', async () => {
    const location = await env.fresh();
    const queue = { concurrency: 1, maxQueued: 1 };
    const { logger } = captureLogs();
    const config = (url: string) =>
      loadConfig({ DATABASE_URL: url, DATABASE_PATH: ':memory:', MODEL_DIR: 'test/fixtures/models/tiny' });
    const runtime = await openBotRuntime(config(location), logger, queue);
    await runtime.settings.setOptedOut('slack', 'U1', true);
    await runtime.close();
    expect(await env.count(location, 'opt_outs')).toBe(1);

    const refused = await openBotRuntime(config(location.replace(/:(\d+)\//, ':1/')), logger, queue).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(RuntimeConfigError);
    expect(String((refused as Error).message)).toMatch(
      /^DATABASE_URL: cannot open postgres postgres:\/\/annamalai:\*\*\*@127\.0\.0\.1:1\/t\d+ for writing: /,
    );
  });
});

describe.skipIf(postgres.skip)(title(postgres, 'health'), () => {
  it('goes lost (logged, writes refused with storage.unavailable) while the server is down, and ok again once it is back', async () => {
    // Its own server: stopping it must not disturb the other tests.
    const server = await startPostgres();
    try {
      const { logs, logger } = captureLogs();
      const storage = await openPostgresStorage(await server.createDatabase(), {
        logger,
        checkIntervalMs: 50,
        lostAfterMs: 200,
        connectTimeoutMs: 1000,
      });
      const lost = next(storage.health, 'lost');
      await server.pause();
      expect(await lost).toMatchObject({ state: 'lost', detail: expect.stringContaining('unreachable') });
      expect(logs.join('')).toContain('results, settings and opt-outs cannot be stored');
      const error = await rejection(storage.settings.setOptedOut('slack', 'U1', true));
      expect(error.code).toBe('storage.unavailable');

      const back = next(storage.health, 'ok');
      await server.start();
      await back;
      expect(await storage.settings.setOptedOut('slack', 'U1', true)).toBe(true);
      expect(logs.join('')).not.toContain(server.password);
      await storage.close();
    } finally {
      await server.stop();
    }
  });
});
