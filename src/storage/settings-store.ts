import type { DatabaseSync } from 'node:sqlite';
import type { SettingsStore, WorkspaceSettings, WorkspaceSettingsPatch } from '../core/ports.ts';
import { AttachedStore, type Database, type DatabaseOptions } from './database.ts';
import { type Row, toRetention, toWorkspace } from './rows.ts';

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
        db.prepare('INSERT OR IGNORE INTO auto_analysis_channels VALUES (?, ?, ?, ?)').run(
          platform,
          workspaceId,
          patch.addAutoAnalysisChannel,
          now,
        );
      if (patch.removeAutoAnalysisChannel !== undefined)
        db.prepare(
          'DELETE FROM auto_analysis_channels WHERE platform = ? AND workspace_id = ? AND channel_id = ?',
        ).run(platform, workspaceId, patch.removeAutoAnalysisChannel);
      if (patch.digestChannelId !== undefined || patch.retentionDays !== undefined) {
        const current = readWorkspace(db, platform, workspaceId);
        db.prepare(
          `INSERT INTO workspace_settings (platform, workspace_id, digest_channel_id, retention_days, updated_at)
           VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (platform, workspace_id) DO UPDATE SET
             digest_channel_id = excluded.digest_channel_id, retention_days = excluded.retention_days,
             updated_at = excluded.updated_at`,
        ).run(
          platform,
          workspaceId,
          patch.digestChannelId !== undefined ? patch.digestChannelId : current.digestChannelId,
          patch.retentionDays !== undefined ? patch.retentionDays : current.retentionDays,
          now,
        );
      }
      return readWorkspace(db, platform, workspaceId);
    });
  }

  async isAutoAnalysisChannel(platform: string, workspaceId: string, channelId: string): Promise<boolean> {
    return this.database.read(
      (db) =>
        db
          .prepare(
            'SELECT 1 FROM auto_analysis_channels WHERE platform = ? AND workspace_id = ? AND channel_id = ?',
          )
          .get(platform, workspaceId, channelId) !== undefined,
    );
  }

  async isOptedOut(platform: string, userId: string): Promise<boolean> {
    return this.database.read(
      (db) =>
        db.prepare('SELECT 1 FROM opt_outs WHERE platform = ? AND user_id = ?').get(platform, userId) !==
        undefined,
    );
  }

  async setOptedOut(platform: string, userId: string, optedOut: boolean): Promise<boolean> {
    return this.database.write((db) => {
      const result = optedOut
        ? db.prepare('INSERT OR IGNORE INTO opt_outs VALUES (?, ?, ?)').run(platform, userId, Date.now())
        : db.prepare('DELETE FROM opt_outs WHERE platform = ? AND user_id = ?').run(platform, userId);
      return Number(result.changes) > 0;
    });
  }

  async close(): Promise<void> {
    await this.closeIfOwned();
  }
}

function readWorkspace(db: DatabaseSync, platform: string, workspaceId: string): WorkspaceSettings {
  const row = db
    .prepare(
      'SELECT digest_channel_id, retention_days FROM workspace_settings WHERE platform = ? AND workspace_id = ?',
    )
    .get(platform, workspaceId) as Row | undefined;
  const channels = db
    .prepare(
      'SELECT channel_id FROM auto_analysis_channels WHERE platform = ? AND workspace_id = ? ORDER BY created_at, channel_id',
    )
    .all(platform, workspaceId) as Row[];
  return toWorkspace(row, channels);
}

/** Workspaces of a platform with an explicit retention, in days (what the retention purge applies). */
export function readRetentions(
  db: DatabaseSync,
  platform: string,
): { workspaceId: string; retentionDays: number }[] {
  const rows = db
    .prepare(
      'SELECT workspace_id, retention_days FROM workspace_settings WHERE platform = ? AND retention_days IS NOT NULL',
    )
    .all(platform) as Row[];
  return rows.map(toRetention);
}
