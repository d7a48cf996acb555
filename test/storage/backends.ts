import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { MIGRATIONS } from '../../src/storage/migrations.ts';
import { openStorage } from '../../src/storage/open.ts';
import { PG_MIGRATIONS } from '../../src/storage/postgres/migrations.ts';
import type { Row } from '../../src/storage/rows.ts';
import type { OpenedStorage } from '../../src/storage/storage.ts';
import { isPostgresUrl, type StorageTarget } from '../../src/storage/target.ts';
import { type PgServer, POSTGRES_SKIP_REASON, startPostgres } from './postgres-server.ts';

/**
 * The storage suite runs once per backend: SQLite in a temp file, and Postgres on a throwaway server
 * (skipped, with the reason in the suite's name, where the server binaries are missing).
 */
export interface Backend {
  readonly name: 'SQLite' | 'Postgres';
  /** Why this backend's half is skipped, or undefined. */
  readonly skip: string | undefined;
  readonly migrations: readonly { readonly version: number; readonly sql: string }[];
}

export const BACKENDS: readonly Backend[] = [
  { name: 'SQLite', skip: undefined, migrations: MIGRATIONS },
  { name: 'Postgres', skip: POSTGRES_SKIP_REASON, migrations: PG_MIGRATIONS },
];

/** A schema's newest version (the numbers may have gaps: a version taken by a change not merged yet). */
export function latest(migrations: Backend['migrations']): number {
  return Math.max(...migrations.map((m) => m.version));
}

/** The suite's title: the backend, and why it is skipped when it is. */
export function title(backend: Backend, what: string): string {
  return backend.skip ? `${backend.name}: ${what} (skipped: ${backend.skip})` : `${backend.name}: ${what}`;
}

export function targetOf(location: string): StorageTarget {
  return isPostgresUrl(location) ? { kind: 'postgres', url: location } : { kind: 'sqlite', path: location };
}

export interface BackendEnv {
  /** A new empty database: a SQLite file path (in a directory not created yet) or a Postgres URL. */
  fresh(): Promise<string>;
  /** A process's storage on `location` (its job journal `owner`'s), closed after the test. */
  open(location: string, options?: { readonly owner?: string }): Promise<OpenedStorage>;
  /** Runs one raw SQL statement (in the backend's dialect) on its own connection; returns its rows. */
  sql(location: string, text: string): Promise<Row[]>;
  /** Runs raw SQL statements (a migration's script) on their own connection. */
  exec(location: string, text: string): Promise<void>;
  /** Applies this backend's migrations up to `version` only, as an older release left the database. */
  migrateTo(location: string, version: number): Promise<void>;
  count(location: string, table: string): Promise<number>;
  /** Declared types of a table's columns (upper case). */
  columnTypes(location: string, table: string): Promise<string[]>;
  /** The throwaway Postgres server (undefined for SQLite). */
  server(): PgServer | undefined;
}

/** Registers the hooks of one backend in the enclosing describe. */
export function useBackend(backend: Backend): BackendEnv {
  let dir = '';
  let server: PgServer | undefined;
  const opened: OpenedStorage[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'annamalai-storage-'));
    if (backend.name === 'Postgres') server = await startPostgres();
  });
  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.close();
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const sql = async (location: string, text: string): Promise<Row[]> => {
    if (!isPostgresUrl(location)) {
      mkdirSync(dirname(location), { recursive: true });
      const raw = new DatabaseSync(location);
      try {
        return raw.prepare(text).all() as Row[];
      } finally {
        raw.close();
      }
    }
    const client = new pg.Client({ connectionString: location });
    await client.connect();
    try {
      // Several statements in one text go as one simple query (a migration's script): no rows then.
      const result = await client.query<Row>(text);
      return Array.isArray(result) ? [] : result.rows;
    } finally {
      await client.end();
    }
  };
  const exec = async (location: string, text: string): Promise<void> => {
    if (isPostgresUrl(location)) {
      await sql(location, text);
      return;
    }
    mkdirSync(dirname(location), { recursive: true });
    const raw = new DatabaseSync(location);
    raw.exec(text);
    raw.close();
  };
  return {
    fresh: async () => (server ? server.createDatabase() : join(dir, randomUUID(), 'nested', 'a.db')),
    async open(location, options = {}) {
      const storage = await openStorage(targetOf(location), options);
      opened.push(storage);
      return storage;
    },
    sql,
    exec,
    async migrateTo(location, version) {
      await exec(
        location,
        'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
      );
      for (const m of backend.migrations.filter((m) => m.version <= version)) {
        await exec(location, m.sql);
        await exec(location, `INSERT INTO schema_migrations VALUES (${m.version}, 0)`);
      }
    },
    async count(location, table) {
      const [row] = await sql(location, `SELECT COUNT(*) AS n FROM ${table}`);
      return Number(row?.n);
    },
    async columnTypes(location, table) {
      const rows = await sql(
        location,
        isPostgresUrl(location)
          ? `SELECT data_type AS type FROM information_schema.columns WHERE table_name = '${table}'`
          : `SELECT type FROM pragma_table_info('${table}')`,
      );
      return rows.map((r) => String(r.type).toUpperCase());
    },
    server: () => server,
  };
}
