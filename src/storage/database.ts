import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { AnnamalaiError, isAnnamalaiError } from '../core/errors.ts';
import type { Logger } from '../log.ts';
import { MIGRATIONS } from './migrations.ts';
import { FileStorageMonitor } from './monitor.ts';

export interface DatabaseOptions {
  /** A file path, or ':memory:'. */
  readonly path: string;
  /** How long, in total, a statement waits for another process's lock before failing (default 30 s). */
  readonly lockWaitMs?: number;
  readonly logger?: Logger;
  /** How often the file is checked to still be the one opened (default 5 s). */
  readonly checkIntervalMs?: number;
}

/**
 * node:sqlite's busy timeout waits synchronously on the main thread, so it is kept to a few milliseconds:
 * a lock held by another process is waited for between attempts, asynchronously (see `#retry`).
 */
const BUSY_TIMEOUT_MS = 5;
/** At open nothing else runs yet, so a longer synchronous wait for a migration's lock is acceptable. */
const OPEN_BUSY_TIMEOUT_MS = 5000;
const FIRST_BACKOFF_MS = 5;
const MAX_BACKOFF_MS = 250;

/** Synchronous on purpose: an await inside BEGIN … COMMIT would let another transaction start inside it. */
type Work<T> = (db: DatabaseSync) => T;

/**
 * The process's one connection to the database: opens it (creating the directory), applies migrations,
 * proves it writable, and runs every statement. Writes are serialised in call order and each is one
 * synchronous BEGIN IMMEDIATE … COMMIT, so no await ever happens inside a transaction.
 */
export class Database {
  readonly path: string;
  readonly monitor: FileStorageMonitor;
  readonly #db: DatabaseSync;
  readonly #lockWaitMs: number;
  readonly #logger: Logger | undefined;
  readonly #closing = new AbortController();
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(path: string, db: DatabaseSync, monitor: FileStorageMonitor, options: DatabaseOptions) {
    this.path = path;
    this.#db = db;
    this.monitor = monitor;
    this.#lockWaitMs = options.lockWaitMs ?? 30_000;
    this.#logger = options.logger;
  }

  /** Throws AnnamalaiError('storage.unavailable') naming the path and the reason when it cannot be written. */
  static open(options: DatabaseOptions): Database {
    const { path } = options;
    let db: DatabaseSync | undefined;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      db = new DatabaseSync(path);
      db.exec(`PRAGMA busy_timeout = ${OPEN_BUSY_TIMEOUT_MS}`);
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA foreign_keys = ON');
      db.exec('PRAGMA synchronous = NORMAL');
      migrate(db);
      // A read-only file or directory opens and reads fine; only a committed write proves it writable.
      transaction(db, (d) =>
        d.prepare("INSERT OR REPLACE INTO storage_meta (key, value) VALUES ('opened_at', ?)").run(Date.now()),
      );
      db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      const file = path === ':memory:' ? undefined : { path, ...identity(path) };
      const monitor = new FileStorageMonitor(file, options.logger);
      monitor.start(options.checkIntervalMs ?? 5000);
      return new Database(path, db, monitor, options);
    } catch (cause) {
      if (db?.isOpen) db.close();
      throw new AnnamalaiError('storage.unavailable', { cause, detail: openFailure(path, cause) });
    }
  }

  /** The newest schema version applied. */
  get schemaVersion(): number {
    return schemaVersion(this.#db);
  }

  /** Runs reads (no transaction); waits for another process's lock asynchronously like writes do. */
  read<T>(work: Work<T>): Promise<T> {
    return this.#retry(() => work(this.#db), Date.now() + this.#lockWaitMs);
  }

  /**
   * Runs `work` in one BEGIN IMMEDIATE transaction, after the writes called before it. A lock held
   * elsewhere is retried with backoff until `lockWaitMs`; then AnnamalaiError('storage.failed'). Refused
   * with AnnamalaiError('storage.unavailable') once the file was lost.
   */
  write<T>(work: Work<T>): Promise<T> {
    const deadline = Date.now() + this.#lockWaitMs;
    const run = this.#tail.then(async () => {
      await this.#refuseIfLost();
      return this.#retry(() => transaction(this.#db, work), deadline);
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.#closing.abort();
    this.monitor.stop();
    await this.#tail;
    if (this.#db.isOpen) this.#db.close();
  }

  async #refuseIfLost(): Promise<void> {
    const health = await this.monitor.check();
    if (health.state === 'lost') throw new AnnamalaiError('storage.unavailable', { detail: health.detail });
  }

  async #retry<T>(attempt: () => T, deadline: number): Promise<T> {
    for (let backoff = FIRST_BACKOFF_MS; ; backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)) {
      if (this.#closing.signal.aborted || !this.#db.isOpen)
        throw new AnnamalaiError('storage.unavailable', { detail: `database ${this.path} is closed` });
      try {
        return attempt();
      } catch (error) {
        const wait = Math.min(backoff, deadline - Date.now());
        if (isBusy(error) && wait > 0) {
          await sleep(wait, undefined, { signal: this.#closing.signal }).catch(() => undefined);
          continue;
        }
        throw await this.#failed(error);
      }
    }
  }

  /** One place where a storage failure is classified and logged as an error. */
  async #failed(error: unknown): Promise<AnnamalaiError> {
    if (isAnnamalaiError(error)) return error;
    if (sqliteCode(error) === SQLITE_READONLY)
      this.monitor.markLost(`database file ${this.path} became read-only`);
    else await this.monitor.check();
    const health = this.monitor.health();
    const coded =
      health.state === 'lost'
        ? new AnnamalaiError('storage.unavailable', { cause: error, detail: health.detail })
        : new AnnamalaiError('storage.failed', {
            cause: error,
            detail: `${isBusy(error) ? `database ${this.path} stayed locked by another process for ${this.#lockWaitMs} ms: ` : ''}${message(error)}`,
          });
    this.#logger?.error({ err: coded, code: coded.code }, 'storage failed');
    return coded;
  }
}

/**
 * A store on the process's one Database when given it, else on one it opens for itself (tests, benches),
 * which `closeIfOwned` then closes.
 */
export abstract class AttachedStore {
  protected readonly database: Database;
  readonly #owned: boolean;

  /** `fileOnly`: a store whose tables others share refuses ':memory:' (nobody could share it). */
  constructor(source: Database | DatabaseOptions, options: { readonly fileOnly?: boolean } = {}) {
    if (options.fileOnly && !(source instanceof Database) && source.path === ':memory:')
      throw new Error(`${new.target.name} needs a file (it shares it with SqliteStore)`);
    this.#owned = !(source instanceof Database);
    this.database = source instanceof Database ? source : Database.open(source);
  }

  protected async closeIfOwned(): Promise<void> {
    if (this.#owned) await this.database.close();
  }
}

/** A shared statement (./statements.ts) in SQLite's spelling: its $1, $2, … parameters as ?1, ?2, …. */
export function sqlite(statement: string): string {
  return statement.replace(/\$(\d+)/g, '?$1');
}

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_READONLY = 8;

/** The primary result code of a node:sqlite error (extended codes carry it in the low byte). */
function sqliteCode(error: unknown): number | undefined {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' ? code & 0xff : undefined;
}

function isBusy(error: unknown): boolean {
  const code = sqliteCode(error);
  return code === SQLITE_BUSY || code === SQLITE_LOCKED;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function transaction<T>(db: DatabaseSync, work: Work<T>): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work(db);
    if (typeof (result as { then?: unknown } | null)?.then === 'function')
      throw new Error('internal: a transaction must not await (it would let another start inside it)');
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

function schemaVersion(db: DatabaseSync): number {
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get();
  return Number(row?.v ?? 0);
}

function migrate(db: DatabaseSync): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)',
  );
  // By the versions applied, not the highest: a version numbered below one already applied (added on another
  // branch) is still applied.
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) =>
      Number(r.version),
    ),
  );
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    transaction(db, (d) => {
      d.exec(migration.sql);
      d.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(
        migration.version,
        Date.now(),
      );
    });
  }
}

function identity(path: string): { dev: number; ino: number } {
  const { dev, ino } = statSync(path);
  return { dev, ino };
}

function openFailure(path: string, cause: unknown): string {
  const code = sqliteCode(cause);
  const reason =
    code === SQLITE_READONLY
      ? 'it is read-only (check that this user can write the file and its directory)'
      : code === SQLITE_BUSY
        ? 'another process kept it locked'
        : message(cause);
  return `cannot open database ${path} for writing: ${reason}`;
}
