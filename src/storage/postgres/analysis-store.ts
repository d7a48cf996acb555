import { randomUUID } from 'node:crypto';
import type { AnalysisStore, TimeRange } from '../../core/ports.ts';
import type { AnalysisRecord, StoredAnalysis } from '../../core/records.ts';
import { DELETE_USER_BASELINES } from '../baseline-sql.ts';
import {
  analysisValues,
  type Row,
  SEGMENT_COLUMNS,
  type SqlValue,
  segmentValues,
  toAnalysis,
} from '../rows.ts';
import * as sql from '../statements.ts';
import { lockUser } from './baseline-store.ts';
import type { PgDatabase, Queryable } from './database.ts';

/** Results in Postgres: the analyses and segments tables of migration 1 (../rows.ts maps them). */
export class PgAnalysisStore implements AnalysisStore {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  get schemaVersion(): number {
    return this.#db.schemaVersion;
  }

  async save(record: AnalysisRecord): Promise<StoredAnalysis> {
    const { outcome } = record;
    const id = await this.#db.transaction(async (tx) => {
      // A job's analysis stored again (a retried job) keeps its first id: its old segments go.
      const { rows } = await tx.query(sql.SAVE_ANALYSIS, analysisValues(randomUUID(), record));
      const stored = String(rows[0]?.id);
      if (record.jobId !== undefined) await tx.query(sql.DELETE_SEGMENTS, [stored]);
      if (outcome.status === 'ok' && outcome.segments.length > 0)
        await insert(
          tx,
          'segments',
          SEGMENT_COLUMNS,
          outcome.segments.map((s) => segmentValues(stored, s)),
        );
      return stored;
    });
    return { ...record, id };
  }

  async byJob(jobId: string): Promise<StoredAnalysis | undefined> {
    const [found] = await this.#hydrated(sql.SELECT_JOB_ANALYSIS, [jobId]);
    return found;
  }

  async get(id: string): Promise<StoredAnalysis | undefined> {
    const [found] = await this.#hydrated('SELECT * FROM analyses WHERE id = $1', [id]);
    return found;
  }

  async userHistory(platform: string, userId: string, limit: number): Promise<StoredAnalysis[]> {
    return this.#hydrated(
      'SELECT * FROM analyses WHERE platform = $1 AND user_id = $2 ORDER BY created_at DESC, seq DESC LIMIT $3',
      [platform, userId, limit],
    );
  }

  async channelAnalyses(platform: string, channelId: string, range: TimeRange): Promise<StoredAnalysis[]> {
    return this.#hydrated(
      `SELECT * FROM analyses WHERE platform = $1 AND channel_id = $2 AND created_at >= $3 AND created_at < $4
       ORDER BY created_at, seq`,
      [platform, channelId, range.from.getTime(), range.to.getTime()],
    );
  }

  async deleteUser(platform: string, userId: string): Promise<number> {
    // Forget deletes the person's voice baselines too, in the same transaction.
    return this.#db.transaction(async (tx) => {
      await lockUser(tx, platform, userId);
      await tx.query(DELETE_USER_BASELINES, [platform, userId]);
      const { rowCount } = await tx.query('DELETE FROM analyses WHERE platform = $1 AND user_id = $2', [
        platform,
        userId,
      ]);
      return rowCount;
    });
  }

  async purgeOlderThan(before: Date): Promise<number> {
    const { rowCount } = await this.#db.query('DELETE FROM analyses WHERE created_at < $1', [
      before.getTime(),
    ]);
    return rowCount;
  }

  async purgeByWorkspace(
    platform: string,
    cutoffs: ReadonlyMap<string, Date>,
    defaultBefore: Date,
  ): Promise<number> {
    // One statement: each analysis is compared with its workspace's cutoff, or the default without one.
    const { rowCount } = await this.#db.query(
      `DELETE FROM analyses a WHERE a.platform = $1 AND a.created_at < COALESCE(
         (SELECT c.before FROM unnest($2::text[], $3::bigint[]) AS c (workspace_id, before)
           WHERE c.workspace_id = a.workspace_id),
         $4)`,
      [platform, [...cutoffs.keys()], [...cutoffs.values()].map((d) => d.getTime()), defaultBefore.getTime()],
    );
    return rowCount;
  }

  /** The stores share the process's pool: closing it is the owner's (see ../open.ts). */
  async close(): Promise<void> {}

  /** Analyses with their segments, in two queries whatever their number. */
  async #hydrated(sql: string, params: readonly unknown[]): Promise<StoredAnalysis[]> {
    const { rows } = await this.#db.query(sql, params);
    if (rows.length === 0) return [];
    const segments = await this.#db.query(
      'SELECT * FROM segments WHERE analysis_id = ANY($1::text[]) ORDER BY analysis_id, idx',
      [rows.map((r) => String(r.id))],
    );
    const byAnalysis = new Map<string, Row[]>();
    for (const s of segments.rows) {
      const id = String(s.analysis_id);
      const list = byAnalysis.get(id);
      if (list) list.push(s);
      else byAnalysis.set(id, [s]);
    }
    return rows.map((row) => toAnalysis(row, byAnalysis.get(String(row.id)) ?? []));
  }
}

/** One multi-row INSERT ($1, $2, …), so a recording's segments cost one round trip. */
async function insert(
  tx: Queryable,
  table: string,
  columns: readonly string[],
  rows: readonly SqlValue[][],
): Promise<void> {
  const values = rows.map(
    (_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`,
  );
  await tx.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values.join(', ')}`, rows.flat());
}
