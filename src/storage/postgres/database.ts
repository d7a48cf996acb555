import pg from 'pg';
import { AnnamalaiError, isAnnamalaiError } from '../../core/errors.ts';
import type { Logger } from '../../log.ts';
import type { Row } from '../rows.ts';
import { PG_MIGRATIONS } from './migrations.ts';
import { PgStorageMonitor } from './monitor.ts';

export interface PgDatabaseOptions {
  /** postgres:// or postgresql:// URL (its password is never logged). */
  readonly url: string;
  readonly logger?: Logger;
  /** Bound of every statement, lock waits included, on the server and on the client (default 30 s). */
  readonly statementTimeoutMs?: number;
  /** Bound of opening a connection, or of waiting for a free one in the pool (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Connections of this process (default 10). */
  readonly poolSize?: number;
  /** How often the server is pinged (default 5 s). */
  readonly checkIntervalMs?: number;
  /** Unreachable this long: health 'lost' (default 15 s). */
  readonly lostAfterMs?: number;
}

export interface Queryable {
  /** `params` are $1, $2, … (SqlValue, or arrays and booleans where the SQL casts them). */
  query(sql: string, params?: readonly unknown[]): Promise<{ rows: Row[]; rowCount: number }>;
}

/** Any constant: the key of the advisory lock held while migrations run, so two starting processes don't race. */
const MIGRATION_LOCK = 7_300_211_965;
/** Errors after which the whole transaction is simply run again. */
const RETRYABLE = new Set(['40001', '40P01']); // serialization failure, deadlock detected
const MAX_ATTEMPTS = 5;

/**
 * The process's pool of connections to one Postgres database: applies migrations at open (under an
 * advisory lock), proves it writable, bounds every statement, and maps every failure to
 * AnnamalaiError('storage.unavailable') when the server cannot be reached, else 'storage.failed'.
 */
export class PgDatabase implements Queryable {
  /** The URL with its password hidden: what logs and errors name. */
  readonly target: string;
  readonly monitor: PgStorageMonitor;
  readonly schemaVersion: number;
  readonly #pool: pg.Pool;
  readonly #logger: Logger | undefined;
  readonly #secret: string | undefined;
  #closed = false;

  private constructor(
    pool: pg.Pool,
    target: string,
    secret: string | undefined,
    schemaVersion: number,
    options: PgDatabaseOptions,
  ) {
    this.#pool = pool;
    this.target = target;
    this.#secret = secret;
    this.schemaVersion = schemaVersion;
    this.#logger = options.logger;
    this.monitor = new PgStorageMonitor({
      target,
      lostAfterMs: options.lostAfterMs ?? 15_000,
      logger: options.logger,
      ping: async () => {
        // Bounded like every query: connectTimeoutMs to connect, statementTimeoutMs to answer.
        await pool.query('SELECT 1');
      },
    });
    this.monitor.start(options.checkIntervalMs ?? 5000);
  }

  /** Throws AnnamalaiError('storage.unavailable') naming the server (no password) and the reason. */
  static async open(options: PgDatabaseOptions): Promise<PgDatabase> {
    const { target, secret } = redact(options.url);
    const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      statement_timeout: statementTimeoutMs,
      idle_in_transaction_session_timeout: statementTimeoutMs,
      // The client-side bound also holds when the server or the network stops answering altogether.
      query_timeout: statementTimeoutMs + 5000,
      application_name: 'annamalai',
      keepAlive: true,
    });
    // An idle connection dropped by the server (restart, failover) is an event, not a crash of the process.
    pool.on('error', (error) =>
      options.logger?.warn({ target, err: scrub(error.message, secret) }, 'idle postgres connection lost'),
    );
    try {
      const version = await migrate(pool);
      // Reading works on a read-only standby too; only a committed write proves the database writable.
      await pool.query(
        `INSERT INTO storage_meta (key, value) VALUES ('opened_at', $1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        [String(Date.now())],
      );
      return new PgDatabase(pool, target, secret, version, options);
    } catch (cause) {
      await pool.end().catch(() => undefined);
      throw new AnnamalaiError('storage.unavailable', {
        cause,
        detail: `cannot open postgres ${target} for writing: ${scrub(message(cause), secret)}`,
      });
    }
  }

  async query(sql: string, params: readonly unknown[] = []): Promise<{ rows: Row[]; rowCount: number }> {
    this.#refuseIfClosed();
    try {
      const result = await this.#pool.query<Row>(sql, [...params]);
      this.monitor.reachable();
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    } catch (error) {
      throw this.#failed(error);
    }
  }

  /**
   * Runs `work` in one transaction on one connection (READ COMMITTED); rolled back when it throws, run
   * again after a serialization failure or a deadlock.
   */
  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      this.#refuseIfClosed();
      let connection: Checkout | undefined;
      try {
        connection = await checkout(this.#pool);
        const { client } = connection;
        await client.query('BEGIN');
        const result = await work({
          async query(sql, params = []) {
            const r = await client.query<Row>(sql, [...params]);
            return { rows: r.rows, rowCount: r.rowCount ?? 0 };
          },
        });
        await client.query('COMMIT');
        this.monitor.reachable();
        return result;
      } catch (error) {
        await connection?.rollback();
        if (RETRYABLE.has(sqlState(error) ?? '') && attempt < MAX_ATTEMPTS) continue;
        throw this.#failed(error);
      } finally {
        connection?.release();
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.monitor.stop();
    await this.#pool.end();
  }

  #refuseIfClosed(): void {
    if (this.#closed)
      throw new AnnamalaiError('storage.unavailable', { detail: `postgres ${this.target} is closed` });
  }

  /** One place where a storage failure is classified and logged as an error. */
  #failed(error: unknown): AnnamalaiError {
    if (isAnnamalaiError(error)) return error;
    const detail = `postgres ${this.target}: ${scrub(message(error), this.#secret)}`;
    let coded: AnnamalaiError;
    if (isUnreachable(error)) {
      this.monitor.unreachable(error);
      coded = new AnnamalaiError('storage.unavailable', { cause: error, detail });
    } else {
      coded = new AnnamalaiError('storage.failed', { cause: error, detail });
    }
    this.#logger?.error(
      { err: coded.message, code: coded.code, sqlState: sqlState(error) },
      'storage failed',
    );
    return coded;
  }
}

/** Applies the migrations not applied yet, each in its own transaction under the migration lock. */
async function migrate(pool: pg.Pool): Promise<number> {
  const { client, rollback, release } = await checkout(pool);
  try {
    for (;;) {
      await client.query('BEGIN');
      try {
        // Held until COMMIT: a second process starting now waits here, then sees the new version.
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        await client.query(
          'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
        );
        const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
        // By the versions applied, not the highest: one numbered below an applied one is still applied.
        const applied = new Set(rows.map((r) => Number(r.version)));
        const next = PG_MIGRATIONS.find((m) => !applied.has(m.version));
        if (!next) {
          await client.query('COMMIT');
          return Math.max(0, ...applied);
        }
        await client.query(next.sql);
        await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [
          next.version,
          Date.now(),
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await rollback();
        throw error;
      }
    }
  } finally {
    release();
  }
}

interface Checkout {
  readonly client: pg.PoolClient;
  /** Rolls back; a connection that cannot even do that is marked broken. */
  rollback(): Promise<void>;
  /** Back to the pool, or dropped when it broke (never handed to the next caller broken). */
  release(): void;
}

/**
 * A connection taken from the pool for a transaction. The pool listens for errors of idle connections
 * only: one that breaks while checked out between two queries would otherwise throw an unhandled 'error'
 * event and end the process.
 */
async function checkout(pool: pg.Pool): Promise<Checkout> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  return {
    client,
    async rollback() {
      await client.query('ROLLBACK').catch((error: unknown) => {
        broken = error instanceof Error ? error : new Error(String(error));
      });
    },
    release() {
      client.off('error', onError);
      client.release(broken);
    },
  };
}

/** The URL with its password replaced by ***, and the password (to scrub it from any message). */
export function redact(url: string): { target: string; secret: string | undefined } {
  try {
    const parsed = new URL(url);
    const secret = parsed.password ? decodeURIComponent(parsed.password) : undefined;
    if (parsed.password) parsed.password = '***';
    return { target: parsed.toString(), secret };
  } catch {
    return { target: 'postgres (unparsable URL)', secret: undefined };
  }
}

function scrub(text: string, secret: string | undefined): string {
  return secret ? text.replaceAll(secret, '***') : text;
}

function message(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return message(error.errors[0]);
  return error instanceof Error && error.message ? error.message : String(error);
}

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Could not reach the server (network, shutdown, refused connection) rather than a statement that failed. */
function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return true;
    if (code.startsWith('E')) return true; // a Node socket error: ECONNREFUSED, ECONNRESET, ETIMEDOUT…
  }
  const text = message(error);
  return /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Query read timeout|connect E/.test(
    text,
  );
}
