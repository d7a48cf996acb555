import { addRecording, type BaselineStats } from '../core/baseline.ts';
import type { BaselineKey, BaselineStore } from '../core/ports.ts';
import * as sql from './baseline-sql.ts';
import { AttachedStore, type Database, type DatabaseOptions, sqlite } from './database.ts';
import type { Row } from './rows.ts';
import { IS_OPTED_OUT } from './statements.ts';

/** Voice baselines in the same SQLite database as the results (migration 5). */
export class SqliteBaselineStore extends AttachedStore implements BaselineStore {
  constructor(source: Database | DatabaseOptions) {
    super(source, { fileOnly: true });
  }

  async stats(key: BaselineKey): Promise<BaselineStats | undefined> {
    return this.database.read((db) =>
      sql.toStats(db.prepare(sqlite(sql.SELECT_BASELINE)).get(...sql.keyValues(key)) as Row | undefined),
    );
  }

  async add(key: BaselineKey, embedding: readonly number[], now: Date): Promise<BaselineStats | undefined> {
    // One BEGIN IMMEDIATE transaction: the opt-out check, the read and the write see one state.
    return this.database.write((db) => {
      if (db.prepare(sqlite(IS_OPTED_OUT)).get(key.platform, key.userId) !== undefined) return undefined;
      const keyValues = sql.keyValues(key);
      db.prepare(sqlite(sql.DELETE_OTHER_MODELS)).run(...keyValues);
      const before = sql.toStats(
        db.prepare(sqlite(sql.SELECT_BASELINE)).get(...keyValues) as Row | undefined,
      );
      const after = addRecording(before, embedding);
      db.prepare(sqlite(sql.UPSERT_BASELINE)).run(...keyValues, ...sql.statsValues(after, now));
      return after;
    });
  }

  async reset(platform: string, workspaceId: string, userId: string): Promise<boolean> {
    return this.database.write(
      (db) => Number(db.prepare(sqlite(sql.RESET_BASELINE)).run(platform, workspaceId, userId).changes) > 0,
    );
  }

  async close(): Promise<void> {
    await this.closeIfOwned();
  }
}
