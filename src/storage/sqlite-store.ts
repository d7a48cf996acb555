import { randomUUID } from 'node:crypto';
import type { DatabaseSync, SQLOutputValue } from 'node:sqlite';
import { isErrorCode } from '../core/errors.ts';
import type { AnalysisStore, TimeRange } from '../core/ports.ts';
import type { AnalysisRecord, Band, SegmentResult, StoredAnalysis } from '../core/records.ts';
import { attach, type Database, type DatabaseOptions } from './database.ts';

type Row = Record<string, SQLOutputValue>;

/** Options of a store that opens its own connection (tests, benches); processes share one Database. */
export type SqliteStoreOptions = DatabaseOptions;

/**
 * node:sqlite rather than the sqlite3 package: synchronous calls are fast for our row sizes, nothing to
 * compile at install (sqlite3's prebuilt download is unreachable here), and it ships with Node 24.
 */
export class SqliteStore implements AnalysisStore {
  readonly #database: Database;
  readonly #owned: boolean;

  constructor(source: Database | SqliteStoreOptions) {
    const { database, owned } = attach(source);
    this.#database = database;
    this.#owned = owned;
  }

  /** The newest schema version applied. */
  get schemaVersion(): number {
    return this.#database.schemaVersion;
  }

  async save(record: AnalysisRecord): Promise<StoredAnalysis> {
    const id = randomUUID();
    const { outcome } = record;
    await this.#database.write((db) => {
      db.prepare(
        `INSERT INTO analyses (id, platform, workspace_id, channel_id, user_id, source_id, source_name,
             duration_s, model_id, model_version, created_at, status, error_code, error_message)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        id,
        record.platform,
        record.workspaceId ?? null,
        record.channelId ?? null,
        record.userId ?? null,
        record.sourceId ?? null,
        record.sourceName ?? null,
        record.durationS,
        record.model.id,
        record.model.version,
        record.createdAt.getTime(),
        outcome.status,
        outcome.status === 'failed' ? outcome.error.code : null,
        outcome.status === 'failed' ? outcome.error.message : null,
      );
      if (outcome.status !== 'ok') return;
      const insert = db.prepare(
        `INSERT INTO segments (analysis_id, idx, start_s, end_s, silence, probabilities, top, band)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const s of outcome.segments) {
        const speech = s.kind === 'speech';
        insert.run(
          id,
          s.index,
          s.startS,
          s.endS,
          speech ? 0 : 1,
          speech ? JSON.stringify(s.probabilities) : null,
          speech ? JSON.stringify(s.top) : null,
          speech ? s.band : null,
        );
      }
    });
    return { ...record, id };
  }

  async get(id: string): Promise<StoredAnalysis | undefined> {
    return this.#database.read((db) => {
      const row = db.prepare('SELECT * FROM analyses WHERE id = ?').get(id) as Row | undefined;
      return row ? hydrate(db, row) : undefined;
    });
  }

  async userHistory(platform: string, userId: string, limit: number): Promise<StoredAnalysis[]> {
    return this.#database.read((db) => {
      const rows = db
        .prepare(
          'SELECT * FROM analyses WHERE platform = ? AND user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?',
        )
        .all(platform, userId, limit) as Row[];
      return rows.map((row) => hydrate(db, row));
    });
  }

  async channelAnalyses(platform: string, channelId: string, range: TimeRange): Promise<StoredAnalysis[]> {
    return this.#database.read((db) => {
      const rows = db
        .prepare(
          `SELECT * FROM analyses WHERE platform = ? AND channel_id = ? AND created_at >= ? AND created_at < ?
           ORDER BY created_at, rowid`,
        )
        .all(platform, channelId, range.from.getTime(), range.to.getTime()) as Row[];
      return rows.map((row) => hydrate(db, row));
    });
  }

  async deleteUser(platform: string, userId: string): Promise<number> {
    return this.#database.write((db) =>
      Number(
        db.prepare('DELETE FROM analyses WHERE platform = ? AND user_id = ?').run(platform, userId).changes,
      ),
    );
  }

  async purgeOlderThan(before: Date): Promise<number> {
    return this.#database.write((db) =>
      Number(db.prepare('DELETE FROM analyses WHERE created_at < ?').run(before.getTime()).changes),
    );
  }

  async purgeByWorkspace(
    platform: string,
    cutoffs: ReadonlyMap<string, Date>,
    defaultBefore: Date,
  ): Promise<number> {
    return this.#database.write((db) => {
      let n = 0;
      const one = db.prepare(
        'DELETE FROM analyses WHERE platform = ? AND workspace_id = ? AND created_at < ?',
      );
      for (const [workspaceId, before] of cutoffs)
        n += Number(one.run(platform, workspaceId, before.getTime()).changes);
      const ids = [...cutoffs.keys()];
      const others = db.prepare(
        `DELETE FROM analyses WHERE platform = ? AND created_at < ?
           AND (workspace_id IS NULL OR workspace_id NOT IN (SELECT value FROM json_each(?)))`,
      );
      n += Number(others.run(platform, defaultBefore.getTime(), JSON.stringify(ids)).changes);
      return n;
    });
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#database.close();
  }
}

function hydrate(db: DatabaseSync, row: Row): StoredAnalysis {
  const optional = (column: string, key: string) =>
    row[column] === null || row[column] === undefined ? {} : { [key]: String(row[column]) };
  const base = {
    id: String(row.id),
    platform: String(row.platform),
    ...optional('workspace_id', 'workspaceId'),
    ...optional('channel_id', 'channelId'),
    ...optional('user_id', 'userId'),
    ...optional('source_id', 'sourceId'),
    ...optional('source_name', 'sourceName'),
    durationS: Number(row.duration_s),
    model: { id: String(row.model_id), version: String(row.model_version) },
    createdAt: new Date(Number(row.created_at)),
  };
  if (row.status === 'failed') {
    const code = String(row.error_code);
    return {
      ...base,
      outcome: {
        status: 'failed',
        // A code this version no longer knows is reported as a generic failure rather than dropped.
        error: { code: isErrorCode(code) ? code : 'inference.failed', message: String(row.error_message) },
      },
    };
  }
  const segments = (
    db.prepare('SELECT * FROM segments WHERE analysis_id = ? ORDER BY idx').all(base.id) as Row[]
  ).map((s): SegmentResult => {
    const common = { index: Number(s.idx), startS: Number(s.start_s), endS: Number(s.end_s) };
    if (s.silence === 1) return { ...common, kind: 'silence' };
    return {
      ...common,
      kind: 'speech',
      probabilities: JSON.parse(String(s.probabilities)),
      top: JSON.parse(String(s.top)),
      band: parseBand(s.band),
    };
  });
  return { ...base, outcome: { status: 'ok', segments } };
}

function parseBand(value: SQLOutputValue | undefined): Band {
  if (value === 'green' || value === 'orange' || value === 'red') return value;
  throw new Error(`corrupt segment row: band ${String(value)}`);
}
