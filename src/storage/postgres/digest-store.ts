import type {
  DigestConfig,
  DigestConfigPatch,
  DigestKey,
  DigestOutcome,
  DigestRun,
  DigestStore,
} from '../../core/ports.ts';
import { finishValues, nextConfigValues, toConfig, toRun } from '../rows.ts';
import * as sql from '../statements.ts';
import type { PgDatabase } from './database.ts';
import { readRetentions } from './settings-store.ts';

/**
 * Digest configuration, digest claims and job runs in Postgres (tables of migration 3). A claim is one
 * INSERT … ON CONFLICT statement on the unique key of a period: of two processes claiming at once, the
 * second waits for the first's row and then finds it taken, so each digest is claimed exactly once.
 */
export class PgDigestStore implements DigestStore {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async config(platform: string, workspaceId: string, channelId: string): Promise<DigestConfig | undefined> {
    const { rows } = await this.#db.query(sql.SELECT_DIGEST_CONFIG, [platform, workspaceId, channelId]);
    return rows[0] && toConfig(rows[0]);
  }

  async workspaceConfigs(platform: string, workspaceId: string): Promise<DigestConfig[]> {
    const { rows } = await this.#db.query(sql.SELECT_WORKSPACE_DIGEST_CONFIGS, [platform, workspaceId]);
    return rows.map(toConfig);
  }

  async enabledConfigs(platform: string): Promise<DigestConfig[]> {
    const { rows } = await this.#db.query(sql.SELECT_ENABLED_DIGEST_CONFIGS, [platform]);
    return rows.map(toConfig);
  }

  async updateConfig(
    key: { platform: string; workspaceId: string; channelId: string },
    patch: DigestConfigPatch,
    defaults: Omit<DigestConfig, 'platform' | 'workspaceId' | 'channelId' | 'activeSince'>,
    now: Date,
  ): Promise<DigestConfig> {
    return this.#db.transaction(async (tx) => {
      // Read, decide, write as one step per channel: a lock on the key, since the row may not exist yet.
      await tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2 || '/' || $3, 0))", [
        key.platform,
        key.workspaceId,
        key.channelId,
      ]);
      const found = await tx.query(sql.SELECT_DIGEST_CONFIG, [key.platform, key.workspaceId, key.channelId]);
      const current = found.rows[0] && toConfig(found.rows[0]);
      const { rows } = await tx.query(
        `${sql.UPSERT_DIGEST_CONFIG} RETURNING *`,
        nextConfigValues(key, current, patch, defaults, now),
      );
      if (!rows[0]) throw new Error('digest config vanished');
      return toConfig(rows[0]);
    });
  }

  async claim(key: DigestKey, periodEnd: number, claimant: string, now: Date): Promise<boolean> {
    // New: inserted. A failed post whose retry is due: claimed again (recorded as posted). Anything else
    // conflicts without an update, and RETURNING gives no row.
    const { rowCount } = await this.#db.query(
      `INSERT INTO digest_runs AS r (platform, workspace_id, channel_id, period_start, period_end, status,
           attempts, claimed_by, claimed_at) VALUES ($1, $2, $3, $4, $5, 'posted', 1, $6, $7)
         ON CONFLICT (platform, workspace_id, channel_id, period_start) DO UPDATE SET
           status = 'posted', attempts = r.attempts + 1, claimed_by = excluded.claimed_by,
           claimed_at = excluded.claimed_at, next_attempt_at = NULL
         WHERE r.status = 'failed' AND r.next_attempt_at IS NOT NULL AND r.next_attempt_at <= excluded.claimed_at
         RETURNING 1`,
      [key.platform, key.workspaceId, key.channelId, key.periodStart, periodEnd, claimant, now.getTime()],
    );
    return rowCount === 1;
  }

  async finish(key: DigestKey, outcome: DigestOutcome): Promise<void> {
    await this.#db.query(sql.FINISH_DIGEST, [
      ...finishValues(outcome),
      key.platform,
      key.workspaceId,
      key.channelId,
      key.periodStart,
    ]);
  }

  async run(key: DigestKey): Promise<DigestRun | undefined> {
    const { rows } = await this.#db.query(sql.SELECT_DIGEST_RUN, [
      key.platform,
      key.workspaceId,
      key.channelId,
      key.periodStart,
    ]);
    return rows[0] && toRun(rows[0]);
  }

  async runs(platform: string, workspaceId: string, channelId: string): Promise<DigestRun[]> {
    const { rows } = await this.#db.query(sql.SELECT_DIGEST_RUNS, [platform, workspaceId, channelId]);
    return rows.map(toRun);
  }

  async claimJob(job: string, runKey: string, claimant: string, now: Date): Promise<boolean> {
    const { rowCount } = await this.#db.query(sql.CLAIM_JOB, [job, runKey, claimant, now.getTime()]);
    return rowCount === 1;
  }

  async retentions(platform: string): Promise<{ workspaceId: string; retentionDays: number }[]> {
    return readRetentions(this.#db, platform);
  }

  /** The stores share the process's pool: closing it is the owner's (see ../open.ts). */
  async close(): Promise<void> {}
}
