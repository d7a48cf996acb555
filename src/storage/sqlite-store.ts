import { randomUUID } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import type { AnalysisStore, TimeRange } from '../core/ports.ts';
import type { AnalysisRecord, StoredAnalysis } from '../core/records.ts';
import { DELETE_USER_BASELINES } from './baseline-sql.ts';
import { AttachedStore, type DatabaseOptions, sqlite } from './database.ts';
import { analysisValues, type Row, SEGMENT_COLUMNS, segmentValues, toAnalysis } from './rows.ts';
import * as sql from './statements.ts';

/** Options of a store that opens its own connection (tests, benches); processes share one Database. */
export type SqliteStoreOptions = DatabaseOptions;

/**
 * node:sqlite rather than the sqlite3 package: synchronous calls are fast for our row sizes, nothing to
 * compile at install (sqlite3's prebuilt download is unreachable here), and it ships with Node 24.
 */
export class SqliteStore extends AttachedStore implements AnalysisStore {
  /** The newest schema version applied. */
  get schemaVersion(): number {
    return this.database.schemaVersion;
  }

  async save(record: AnalysisRecord): Promise<StoredAnalysis> {
    const { outcome } = record;
    const id = await this.database.write((db) => {
      // A job's analysis stored again (a retried job) keeps its first id: its old segments go.
      const row = db.prepare(sqlite(sql.SAVE_ANALYSIS)).get(...analysisValues(randomUUID(), record)) as Row;
      const stored = String(row.id);
      if (record.jobId !== undefined) db.prepare(sqlite(sql.DELETE_SEGMENTS)).run(stored);
      if (outcome.status !== 'ok') return stored;
      const insert = db.prepare(
        `INSERT INTO segments (${SEGMENT_COLUMNS.join(', ')}) VALUES (${marks(SEGMENT_COLUMNS.length)})`,
      );
      for (const s of outcome.segments) insert.run(...segmentValues(stored, s));
      return stored;
    });
    return { ...record, id };
  }

  async byJob(jobId: string): Promise<StoredAnalysis | undefined> {
    return this.database.read((db) => {
      const row = db.prepare(sqlite(sql.SELECT_JOB_ANALYSIS)).get(jobId) as Row | undefined;
      return row ? hydrate(db, row) : undefined;
    });
  }

  async get(id: string): Promise<StoredAnalysis | undefined> {
    return this.database.read((db) => {
      const row = db.prepare('SELECT * FROM analyses WHERE id = ?').get(id) as Row | undefined;
      return row ? hydrate(db, row) : undefined;
    });
  }

  async userHistory(platform: string, userId: string, limit: number): Promise<StoredAnalysis[]> {
    return this.database.read((db) => {
      const rows = db
        .prepare(
          'SELECT * FROM analyses WHERE platform = ? AND user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?',
        )
        .all(platform, userId, limit) as Row[];
      return rows.map((row) => hydrate(db, row));
    });
  }

  async channelAnalyses(platform: string, channelId: string, range: TimeRange): Promise<StoredAnalysis[]> {
    return this.database.read((db) => {
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
    // Forget deletes the person's voice baselines too, in the same transaction.
    return this.database.write((db) => {
      db.prepare(sqlite(DELETE_USER_BASELINES)).run(platform, userId);
      return Number(
        db.prepare('DELETE FROM analyses WHERE platform = ? AND user_id = ?').run(platform, userId).changes,
      );
    });
  }

  async purgeOlderThan(before: Date): Promise<number> {
    return this.database.write((db) =>
      Number(db.prepare('DELETE FROM analyses WHERE created_at < ?').run(before.getTime()).changes),
    );
  }

  async purgeByWorkspace(
    platform: string,
    cutoffs: ReadonlyMap<string, Date>,
    defaultBefore: Date,
  ): Promise<number> {
    return this.database.write((db) => {
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
    await this.closeIfOwned();
  }
}

function hydrate(db: DatabaseSync, row: Row): StoredAnalysis {
  const segments =
    row.status === 'failed'
      ? []
      : (db
          .prepare('SELECT * FROM segments WHERE analysis_id = ? ORDER BY idx')
          .all(String(row.id)) as Row[]);
  return toAnalysis(row, segments);
}

function marks(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}
