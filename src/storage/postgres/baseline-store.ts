import { addRecording, type BaselineStats } from '../../core/baseline.ts';
import type { BaselineKey, BaselineStore } from '../../core/ports.ts';
import * as sql from '../baseline-sql.ts';
import { IS_OPTED_OUT } from '../statements.ts';
import type { PgDatabase, Queryable } from './database.ts';

/**
 * Parameters: platform, user id. Serialises, per person, the baseline updates with each other and with
 * opting out (READ COMMITTED alone would let two first recordings both insert, or an update outlive an
 * opt-out that committed in between).
 */
const LOCK_USER = 'SELECT pg_advisory_xact_lock(hashtext($1 || chr(31) || $2))';

/** Takes the person's lock in a transaction: see LOCK_USER. */
export async function lockUser(tx: Queryable, platform: string, userId: string): Promise<void> {
  await tx.query(LOCK_USER, [platform, userId]);
}

/** Voice baselines in Postgres (migration 5). */
export class PgBaselineStore implements BaselineStore {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async stats(key: BaselineKey): Promise<BaselineStats | undefined> {
    const { rows } = await this.#db.query(sql.SELECT_BASELINE, sql.keyValues(key));
    return sql.toStats(rows[0]);
  }

  async add(key: BaselineKey, embedding: readonly number[], now: Date): Promise<BaselineStats | undefined> {
    return this.#db.transaction(async (tx) => {
      await lockUser(tx, key.platform, key.userId);
      if ((await tx.query(IS_OPTED_OUT, [key.platform, key.userId])).rowCount > 0) return undefined;
      const keyValues = sql.keyValues(key);
      await tx.query(sql.DELETE_OTHER_MODELS, keyValues);
      const before = sql.toStats((await tx.query(sql.SELECT_BASELINE, keyValues)).rows[0]);
      const after = addRecording(before, embedding);
      await tx.query(sql.UPSERT_BASELINE, [...keyValues, ...sql.statsValues(after, now)]);
      return after;
    });
  }

  async reset(platform: string, workspaceId: string, userId: string): Promise<boolean> {
    const { rowCount } = await this.#db.query(sql.RESET_BASELINE, [platform, workspaceId, userId]);
    return rowCount > 0;
  }

  /** The stores share the process's pool: closing it is the owner's (see ../open.ts). */
  async close(): Promise<void> {}
}
