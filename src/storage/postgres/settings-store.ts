import type { SettingsStore, WorkspaceSettings, WorkspaceSettingsPatch } from '../../core/ports.ts';
import { DELETE_USER_BASELINES } from '../baseline-sql.ts';
import { toRetention, toWorkspace } from '../rows.ts';
import * as sql from '../statements.ts';
import { lockUser } from './baseline-store.ts';
import type { PgDatabase, Queryable } from './database.ts';

/** Bot settings and opt-outs in Postgres (tables of migration 2). */
export class PgSettingsStore implements SettingsStore {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async workspace(platform: string, workspaceId: string): Promise<WorkspaceSettings> {
    return readWorkspace(this.#db, platform, workspaceId);
  }

  async updateWorkspace(
    platform: string,
    workspaceId: string,
    patch: WorkspaceSettingsPatch,
  ): Promise<WorkspaceSettings> {
    const now = Date.now();
    return this.#db.transaction(async (tx) => {
      if (patch.addAutoAnalysisChannel !== undefined)
        await tx.query(sql.ADD_AUTO_ANALYSIS_CHANNEL, [
          platform,
          workspaceId,
          patch.addAutoAnalysisChannel,
          now,
        ]);
      if (patch.removeAutoAnalysisChannel !== undefined)
        await tx.query(sql.REMOVE_AUTO_ANALYSIS_CHANNEL, [
          platform,
          workspaceId,
          patch.removeAutoAnalysisChannel,
        ]);
      const values = sql.patchValues(platform, workspaceId, patch, now);
      if (values) await tx.query(sql.PATCH_WORKSPACE_SETTINGS, values);
      return readWorkspace(tx, platform, workspaceId);
    });
  }

  async isAutoAnalysisChannel(platform: string, workspaceId: string, channelId: string): Promise<boolean> {
    const { rowCount } = await this.#db.query(sql.IS_AUTO_ANALYSIS_CHANNEL, [
      platform,
      workspaceId,
      channelId,
    ]);
    return rowCount > 0;
  }

  async isOptedOut(platform: string, userId: string): Promise<boolean> {
    const { rowCount } = await this.#db.query(sql.IS_OPTED_OUT, [platform, userId]);
    return rowCount > 0;
  }

  async setOptedOut(platform: string, userId: string, optedOut: boolean): Promise<boolean> {
    if (!optedOut) return (await this.#db.query(sql.OPT_IN, [platform, userId])).rowCount > 0;
    // Never kept for someone who opted out: their voice baselines go with the opt-out.
    return this.#db.transaction(async (tx) => {
      await lockUser(tx, platform, userId);
      await tx.query(DELETE_USER_BASELINES, [platform, userId]);
      return (await tx.query(sql.OPT_OUT, [platform, userId, Date.now()])).rowCount > 0;
    });
  }

  /** The stores share the process's pool: closing it is the owner's (see ../open.ts). */
  async close(): Promise<void> {}
}

async function readWorkspace(
  db: Queryable,
  platform: string,
  workspaceId: string,
): Promise<WorkspaceSettings> {
  const settings = await db.query(sql.SELECT_WORKSPACE_SETTINGS, [platform, workspaceId]);
  const channels = await db.query(sql.SELECT_AUTO_ANALYSIS_CHANNELS, [platform, workspaceId]);
  return toWorkspace(settings.rows[0], channels.rows);
}

/** Workspaces of a platform with an explicit retention, in days (what the retention purge applies). */
export async function readRetentions(
  db: Queryable,
  platform: string,
): Promise<{ workspaceId: string; retentionDays: number }[]> {
  const { rows } = await db.query(sql.SELECT_RETENTIONS, [platform]);
  return rows.map(toRetention);
}
