import type { SQLInputValue } from 'node:sqlite';
import type {
  DigestConfig,
  DigestConfigPatch,
  DigestKey,
  DigestOutcome,
  DigestRun,
  DigestStore,
} from '../core/ports.ts';
import { AttachedStore, type Database, type DatabaseOptions, sqlite } from './database.ts';
import { finishValues, nextConfigValues, type Row, toConfig, toRun } from './rows.ts';
import { readRetentions } from './settings-store.ts';
import * as sql from './statements.ts';

/**
 * Digest configuration, digest claims and job runs in the bots' SQLite file (tables of migration 3).
 * Claims run in BEGIN IMMEDIATE transactions against a unique key, so two processes sharing the file
 * never both get the same digest.
 */
export class SqliteDigestStore extends AttachedStore implements DigestStore {
  constructor(source: Database | DatabaseOptions) {
    super(source, { fileOnly: true });
  }

  async config(platform: string, workspaceId: string, channelId: string): Promise<DigestConfig | undefined> {
    const row = await this.#get(sql.SELECT_DIGEST_CONFIG, platform, workspaceId, channelId);
    return row ? toConfig(row) : undefined;
  }

  async workspaceConfigs(platform: string, workspaceId: string): Promise<DigestConfig[]> {
    const rows = await this.#all(sql.SELECT_WORKSPACE_DIGEST_CONFIGS, platform, workspaceId);
    return rows.map(toConfig);
  }

  async enabledConfigs(platform: string): Promise<DigestConfig[]> {
    const rows = await this.#all(sql.SELECT_ENABLED_DIGEST_CONFIGS, platform);
    return rows.map(toConfig);
  }

  async updateConfig(
    key: { platform: string; workspaceId: string; channelId: string },
    patch: DigestConfigPatch,
    defaults: Omit<DigestConfig, 'platform' | 'workspaceId' | 'channelId' | 'activeSince'>,
    now: Date,
  ): Promise<DigestConfig> {
    await this.database.write((db) => {
      const row = db
        .prepare(sqlite(sql.SELECT_DIGEST_CONFIG))
        .get(key.platform, key.workspaceId, key.channelId) as Row | undefined;
      const current = row ? toConfig(row) : undefined;
      db.prepare(sqlite(sql.UPSERT_DIGEST_CONFIG)).run(
        ...nextConfigValues(key, current, patch, defaults, now),
      );
    });
    const saved = await this.config(key.platform, key.workspaceId, key.channelId);
    if (!saved) throw new Error('digest config vanished');
    return saved;
  }

  async claim(key: DigestKey, periodEnd: number, claimant: string, now: Date): Promise<boolean> {
    return this.database.write((db) => {
      const inserted = db
        .prepare(
          `INSERT INTO digest_runs (platform, workspace_id, channel_id, period_start, period_end, status,
             attempts, claimed_by, claimed_at) VALUES (?, ?, ?, ?, ?, 'posted', 1, ?, ?)
           ON CONFLICT DO NOTHING`,
        )
        .run(
          key.platform,
          key.workspaceId,
          key.channelId,
          key.periodStart,
          periodEnd,
          claimant,
          now.getTime(),
        );
      if (Number(inserted.changes) === 1) return true;
      // A failed post whose retry is due: claimed again (recorded as posted) by exactly one process.
      const retried = db
        .prepare(
          `UPDATE digest_runs SET status = 'posted', attempts = attempts + 1, claimed_by = ?, claimed_at = ?,
             next_attempt_at = NULL
           WHERE platform = ? AND workspace_id = ? AND channel_id = ? AND period_start = ?
             AND status = 'failed' AND next_attempt_at IS NOT NULL AND next_attempt_at <= ?`,
        )
        .run(
          claimant,
          now.getTime(),
          key.platform,
          key.workspaceId,
          key.channelId,
          key.periodStart,
          now.getTime(),
        );
      return Number(retried.changes) === 1;
    });
  }

  async finish(key: DigestKey, outcome: DigestOutcome): Promise<void> {
    await this.database.write((db) =>
      db
        .prepare(sqlite(sql.FINISH_DIGEST))
        .run(...finishValues(outcome), key.platform, key.workspaceId, key.channelId, key.periodStart),
    );
  }

  async run(key: DigestKey): Promise<DigestRun | undefined> {
    const row = await this.#get(
      sql.SELECT_DIGEST_RUN,
      key.platform,
      key.workspaceId,
      key.channelId,
      key.periodStart,
    );
    return row ? toRun(row) : undefined;
  }

  async runs(platform: string, workspaceId: string, channelId: string): Promise<DigestRun[]> {
    const rows = await this.#all(sql.SELECT_DIGEST_RUNS, platform, workspaceId, channelId);
    return rows.map(toRun);
  }

  async claimJob(job: string, runKey: string, claimant: string, now: Date): Promise<boolean> {
    return this.database.write(
      (db) =>
        Number(db.prepare(sqlite(sql.CLAIM_JOB)).run(job, runKey, claimant, now.getTime()).changes) === 1,
    );
  }

  async retentions(platform: string): Promise<{ workspaceId: string; retentionDays: number }[]> {
    // Retention is a workspace setting: its table is read in one place, the settings module.
    return this.database.read((db) => readRetentions(db, platform));
  }

  async close(): Promise<void> {
    await this.closeIfOwned();
  }

  /** Runs one of the shared statements (./statements.ts). */
  #get(statement: string, ...params: SQLInputValue[]): Promise<Row | undefined> {
    return this.database.read((db) => db.prepare(sqlite(statement)).get(...params) as Row | undefined);
  }

  #all(statement: string, ...params: SQLInputValue[]): Promise<Row[]> {
    return this.database.read((db) => db.prepare(sqlite(statement)).all(...params) as Row[]);
  }
}
