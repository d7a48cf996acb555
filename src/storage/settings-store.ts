import type { DatabaseSync } from 'node:sqlite';
import type { SettingsStore, WorkspaceSettings, WorkspaceSettingsPatch } from '../core/ports.ts';
import { DELETE_USER_BASELINES } from './baseline-sql.ts';
import { AttachedStore, type Database, type DatabaseOptions, sqlite } from './database.ts';
import { type Row, toRetention, toWorkspace } from './rows.ts';
import * as sql from './statements.ts';

/** Bot settings and opt-outs in the same SQLite database as the results (tables of migration 2). */
export class SqliteSettingsStore extends AttachedStore implements SettingsStore {
  constructor(source: Database | DatabaseOptions) {
    super(source, { fileOnly: true });
  }

  async workspace(platform: string, workspaceId: string): Promise<WorkspaceSettings> {
    return this.database.read((db) => readWorkspace(db, platform, workspaceId));
  }

  async updateWorkspace(
    platform: string,
    workspaceId: string,
    patch: WorkspaceSettingsPatch,
  ): Promise<WorkspaceSettings> {
    const now = Date.now();
    // One synchronous transaction that returns what it wrote: nothing awaits between BEGIN and COMMIT.
    return this.database.write((db) => {
      if (patch.addAutoAnalysisChannel !== undefined)
        db.prepare(sqlite(sql.ADD_AUTO_ANALYSIS_CHANNEL)).run(
          platform,
          workspaceId,
          patch.addAutoAnalysisChannel,
          now,
        );
      if (patch.removeAutoAnalysisChannel !== undefined)
        db.prepare(sqlite(sql.REMOVE_AUTO_ANALYSIS_CHANNEL)).run(
          platform,
          workspaceId,
          patch.removeAutoAnalysisChannel,
        );
      const values = sql.patchValues(platform, workspaceId, patch, now);
      if (values) db.prepare(sqlite(sql.PATCH_WORKSPACE_SETTINGS)).run(...values);
      return readWorkspace(db, platform, workspaceId);
    });
  }

  async isAutoAnalysisChannel(platform: string, workspaceId: string, channelId: string): Promise<boolean> {
    return this.database.read(
      (db) =>
        db.prepare(sqlite(sql.IS_AUTO_ANALYSIS_CHANNEL)).get(platform, workspaceId, channelId) !== undefined,
    );
  }

  async isOptedOut(platform: string, userId: string): Promise<boolean> {
    return this.database.read(
      (db) => db.prepare(sqlite(sql.IS_OPTED_OUT)).get(platform, userId) !== undefined,
    );
  }

  async setOptedOut(platform: string, userId: string, optedOut: boolean): Promise<boolean> {
    return this.database.write((db) => {
      // Never kept for someone who opted out: their voice baselines go with the opt-out.
      if (optedOut) db.prepare(sqlite(DELETE_USER_BASELINES)).run(platform, userId);
      const result = optedOut
        ? db.prepare(sqlite(sql.OPT_OUT)).run(platform, userId, Date.now())
        : db.prepare(sqlite(sql.OPT_IN)).run(platform, userId);
      return Number(result.changes) > 0;
    });
  }

  async close(): Promise<void> {
    await this.closeIfOwned();
  }
}

function readWorkspace(db: DatabaseSync, platform: string, workspaceId: string): WorkspaceSettings {
  const row = db.prepare(sqlite(sql.SELECT_WORKSPACE_SETTINGS)).get(platform, workspaceId) as Row | undefined;
  const channels = db.prepare(sqlite(sql.SELECT_AUTO_ANALYSIS_CHANNELS)).all(platform, workspaceId) as Row[];
  return toWorkspace(row, channels);
}

/** Workspaces of a platform with an explicit retention, in days (what the retention purge applies). */
export function readRetentions(
  db: DatabaseSync,
  platform: string,
): { workspaceId: string; retentionDays: number }[] {
  return (db.prepare(sqlite(sql.SELECT_RETENTIONS)).all(platform) as Row[]).map(toRetention);
}
