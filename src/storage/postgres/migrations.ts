/**
 * The SQLite migrations (../migrations.ts) in Postgres DDL, with the same version numbers, tables and
 * columns, so one row mapping (../rows.ts) serves both. Differences the dialect forces: BIGINT for the
 * millisecond timestamps, DOUBLE PRECISION for REAL, TEXT for SQLite's ANY, and a `seq` identity column on
 * analyses and jobs that stands in for SQLite's rowid (the tie-break of equal timestamps: insertion order).
 * Append only: a shipped migration is never edited, a new version is added to both lists instead.
 */
export const PG_MIGRATIONS: readonly { readonly version: number; readonly sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE analyses (
        id            TEXT PRIMARY KEY,
        seq           BIGINT GENERATED ALWAYS AS IDENTITY,
        platform      TEXT NOT NULL,
        workspace_id  TEXT,
        channel_id    TEXT,
        user_id       TEXT,
        source_id     TEXT,
        source_name   TEXT,
        duration_s    DOUBLE PRECISION NOT NULL,
        model_id      TEXT NOT NULL,
        model_version TEXT NOT NULL,
        created_at    BIGINT NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
        error_code    TEXT,
        error_message TEXT
      );
      CREATE INDEX analyses_user ON analyses (platform, user_id, created_at);
      CREATE INDEX analyses_channel ON analyses (platform, channel_id, created_at);
      CREATE INDEX analyses_created ON analyses (created_at);

      CREATE TABLE segments (
        analysis_id   TEXT NOT NULL REFERENCES analyses (id) ON DELETE CASCADE,
        idx           INTEGER NOT NULL,
        start_s       DOUBLE PRECISION NOT NULL,
        end_s         DOUBLE PRECISION NOT NULL,
        silence       INTEGER NOT NULL CHECK (silence IN (0, 1)),
        probabilities TEXT,
        top           TEXT,
        band          TEXT,
        PRIMARY KEY (analysis_id, idx)
      );
    `,
  },
  {
    version: 2,
    sql: `
      CREATE TABLE workspace_settings (
        platform          TEXT NOT NULL,
        workspace_id      TEXT NOT NULL,
        digest_channel_id TEXT,
        retention_days    INTEGER CHECK (retention_days IS NULL OR retention_days > 0),
        updated_at        BIGINT NOT NULL,
        PRIMARY KEY (platform, workspace_id)
      );

      CREATE TABLE auto_analysis_channels (
        platform     TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        channel_id   TEXT NOT NULL,
        created_at   BIGINT NOT NULL,
        PRIMARY KEY (platform, workspace_id, channel_id)
      );

      CREATE TABLE opt_outs (
        platform   TEXT NOT NULL,
        user_id    TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (platform, user_id)
      );
    `,
  },
  {
    version: 3,
    sql: `
      CREATE TABLE digest_configs (
        platform          TEXT NOT NULL,
        workspace_id      TEXT NOT NULL,
        channel_id        TEXT NOT NULL,
        target_channel_id TEXT NOT NULL,
        enabled           INTEGER NOT NULL CHECK (enabled IN (0, 1)),
        schedule          TEXT NOT NULL,
        time_zone         TEXT NOT NULL,
        empty_line        INTEGER NOT NULL CHECK (empty_line IN (0, 1)),
        active_since      BIGINT NOT NULL,
        updated_at        BIGINT NOT NULL,
        PRIMARY KEY (platform, workspace_id, channel_id)
      );
      CREATE INDEX digest_configs_enabled ON digest_configs (platform, enabled);

      CREATE TABLE digest_runs (
        platform        TEXT NOT NULL,
        workspace_id    TEXT NOT NULL,
        channel_id      TEXT NOT NULL,
        period_start    BIGINT NOT NULL,
        period_end      BIGINT NOT NULL,
        status          TEXT NOT NULL CHECK (status IN ('posted', 'empty', 'failed')),
        attempts        INTEGER NOT NULL,
        claimed_by      TEXT NOT NULL,
        claimed_at      BIGINT NOT NULL,
        message_id      TEXT,
        next_attempt_at BIGINT,
        error           TEXT,
        PRIMARY KEY (platform, workspace_id, channel_id, period_start)
      );

      CREATE TABLE job_runs (
        job        TEXT NOT NULL,
        run_key    TEXT NOT NULL,
        claimed_by TEXT NOT NULL,
        claimed_at BIGINT NOT NULL,
        PRIMARY KEY (job, run_key)
      );
      CREATE INDEX analyses_workspace ON analyses (platform, workspace_id, created_at);
    `,
  },
  {
    version: 4,
    sql: `
      CREATE TABLE jobs (
        id          TEXT PRIMARY KEY,
        seq         BIGINT GENERATED ALWAYS AS IDENTITY,
        platform    TEXT NOT NULL,
        user_id     TEXT NOT NULL,
        reply       TEXT NOT NULL,
        analysis_id TEXT,
        created_at  BIGINT NOT NULL,
        closed_at   BIGINT
      );
      CREATE INDEX jobs_open ON jobs (platform, created_at) WHERE closed_at IS NULL;

      CREATE TABLE deliveries (
        platform   TEXT NOT NULL,
        event_id   TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (platform, event_id)
      );
      CREATE INDEX deliveries_expiry ON deliveries (expires_at);

      CREATE TABLE storage_meta (
        key   TEXT PRIMARY KEY,
        value TEXT
      );
    `,
  },
];
