import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLOutputValue } from 'node:sqlite';
import type { SettingsStore, WorkspaceSettings, WorkspaceSettingsPatch } from '../core/ports.ts';
import { SqliteStore } from './sqlite-store.ts';

type Row = Record<string, SQLOutputValue>;

/**
 * Bot settings and opt-outs in the same SQLite file as the results (tables of migration 2). The schema
 * is brought up to date through SqliteStore's migrations, so either store may be opened first.
 */
export class SqliteSettingsStore implements SettingsStore {
  readonly #db: DatabaseSync;

  constructor(options: { readonly path: string; readonly busyTimeoutMs?: number }) {
    if (options.path === ':memory:')
      throw new Error('SqliteSettingsStore needs a file (it shares it with SqliteStore)');
    mkdirSync(dirname(options.path), { recursive: true });
    // Opening (and closing) the results store applies every pending migration, ours included.
    void new SqliteStore({ path: options.path }).close();
    this.#db = new DatabaseSync(options.path);
    this.#db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  }

  async workspace(platform: string, workspaceId: string): Promise<WorkspaceSettings> {
    const row = this.#db
      .prepare(
        'SELECT digest_channel_id, retention_days FROM workspace_settings WHERE platform = ? AND workspace_id = ?',
      )
      .get(platform, workspaceId) as Row | undefined;
    const channels = this.#db
      .prepare(
        'SELECT channel_id FROM auto_analysis_channels WHERE platform = ? AND workspace_id = ? ORDER BY created_at, channel_id',
      )
      .all(platform, workspaceId) as Row[];
    return {
      autoAnalysisChannels: channels.map((c) => String(c.channel_id)),
      digestChannelId: row?.digest_channel_id == null ? null : String(row.digest_channel_id),
      retentionDays: row?.retention_days == null ? null : Number(row.retention_days),
    };
  }

  async updateWorkspace(
    platform: string,
    workspaceId: string,
    patch: WorkspaceSettingsPatch,
  ): Promise<WorkspaceSettings> {
    const now = Date.now();
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      if (patch.addAutoAnalysisChannel !== undefined)
        this.#db
          .prepare('INSERT OR IGNORE INTO auto_analysis_channels VALUES (?, ?, ?, ?)')
          .run(platform, workspaceId, patch.addAutoAnalysisChannel, now);
      if (patch.removeAutoAnalysisChannel !== undefined)
        this.#db
          .prepare(
            'DELETE FROM auto_analysis_channels WHERE platform = ? AND workspace_id = ? AND channel_id = ?',
          )
          .run(platform, workspaceId, patch.removeAutoAnalysisChannel);
      if (patch.digestChannelId !== undefined || patch.retentionDays !== undefined) {
        const current = await this.workspace(platform, workspaceId);
        this.#db
          .prepare(
            `INSERT INTO workspace_settings (platform, workspace_id, digest_channel_id, retention_days, updated_at)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (platform, workspace_id) DO UPDATE SET
               digest_channel_id = excluded.digest_channel_id, retention_days = excluded.retention_days,
               updated_at = excluded.updated_at`,
          )
          .run(
            platform,
            workspaceId,
            patch.digestChannelId !== undefined ? patch.digestChannelId : current.digestChannelId,
            patch.retentionDays !== undefined ? patch.retentionDays : current.retentionDays,
            now,
          );
      }
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
    return this.workspace(platform, workspaceId);
  }

  async isAutoAnalysisChannel(platform: string, workspaceId: string, channelId: string): Promise<boolean> {
    return (
      this.#db
        .prepare(
          'SELECT 1 FROM auto_analysis_channels WHERE platform = ? AND workspace_id = ? AND channel_id = ?',
        )
        .get(platform, workspaceId, channelId) !== undefined
    );
  }

  async isOptedOut(platform: string, userId: string): Promise<boolean> {
    return (
      this.#db.prepare('SELECT 1 FROM opt_outs WHERE platform = ? AND user_id = ?').get(platform, userId) !==
      undefined
    );
  }

  async setOptedOut(platform: string, userId: string, optedOut: boolean): Promise<boolean> {
    const result = optedOut
      ? this.#db.prepare('INSERT OR IGNORE INTO opt_outs VALUES (?, ?, ?)').run(platform, userId, Date.now())
      : this.#db.prepare('DELETE FROM opt_outs WHERE platform = ? AND user_id = ?').run(platform, userId);
    return Number(result.changes) > 0;
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }
}
