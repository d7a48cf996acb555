import type { SettingsStore, WorkspaceSettings, WorkspaceSettingsPatch } from '../../core/ports.ts';
import { toRetention, toWorkspace } from '../rows.ts';
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
        await tx.query('INSERT INTO auto_analysis_channels VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
          platform,
          workspaceId,
          patch.addAutoAnalysisChannel,
          now,
        ]);
      if (patch.removeAutoAnalysisChannel !== undefined)
        await tx.query(
          'DELETE FROM auto_analysis_channels WHERE platform = $1 AND workspace_id = $2 AND channel_id = $3',
          [platform, workspaceId, patch.removeAutoAnalysisChannel],
        );
      if (patch.digestChannelId !== undefined || patch.retentionDays !== undefined)
        // Only the fields patched are set, in one statement: two processes patching different fields at
        // once both keep their change (no read-then-write between them).
        await tx.query(
          `INSERT INTO workspace_settings (platform, workspace_id, digest_channel_id, retention_days, updated_at)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (platform, workspace_id) DO UPDATE SET
             digest_channel_id = CASE WHEN $6 THEN excluded.digest_channel_id
                                      ELSE workspace_settings.digest_channel_id END,
             retention_days = CASE WHEN $7 THEN excluded.retention_days
                                   ELSE workspace_settings.retention_days END,
             updated_at = excluded.updated_at`,
          [
            platform,
            workspaceId,
            patch.digestChannelId ?? null,
            patch.retentionDays ?? null,
            now,
            patch.digestChannelId !== undefined,
            patch.retentionDays !== undefined,
          ],
        );
      return readWorkspace(tx, platform, workspaceId);
    });
  }

  async isAutoAnalysisChannel(platform: string, workspaceId: string, channelId: string): Promise<boolean> {
    const { rowCount } = await this.#db.query(
      'SELECT 1 FROM auto_analysis_channels WHERE platform = $1 AND workspace_id = $2 AND channel_id = $3',
      [platform, workspaceId, channelId],
    );
    return rowCount > 0;
  }

  async isOptedOut(platform: string, userId: string): Promise<boolean> {
    const { rowCount } = await this.#db.query('SELECT 1 FROM opt_outs WHERE platform = $1 AND user_id = $2', [
      platform,
      userId,
    ]);
    return rowCount > 0;
  }

  async setOptedOut(platform: string, userId: string, optedOut: boolean): Promise<boolean> {
    const { rowCount } = optedOut
      ? await this.#db.query('INSERT INTO opt_outs VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
          platform,
          userId,
          Date.now(),
        ])
      : await this.#db.query('DELETE FROM opt_outs WHERE platform = $1 AND user_id = $2', [platform, userId]);
    return rowCount > 0;
  }

  /** The stores share the process's pool: closing it is the owner's (see ../open.ts). */
  async close(): Promise<void> {}
}

async function readWorkspace(
  db: Queryable,
  platform: string,
  workspaceId: string,
): Promise<WorkspaceSettings> {
  const settings = await db.query(
    'SELECT digest_channel_id, retention_days FROM workspace_settings WHERE platform = $1 AND workspace_id = $2',
    [platform, workspaceId],
  );
  const channels = await db.query(
    'SELECT channel_id FROM auto_analysis_channels WHERE platform = $1 AND workspace_id = $2 ORDER BY created_at, channel_id',
    [platform, workspaceId],
  );
  return toWorkspace(settings.rows[0], channels.rows);
}

/** Workspaces of a platform with an explicit retention, in days (what the retention purge applies). */
export async function readRetentions(
  db: Queryable,
  platform: string,
): Promise<{ workspaceId: string; retentionDays: number }[]> {
  const { rows } = await db.query(
    'SELECT workspace_id, retention_days FROM workspace_settings WHERE platform = $1 AND retention_days IS NOT NULL',
    [platform],
  );
  return rows.map(toRetention);
}
