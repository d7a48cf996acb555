/**
 * Versioned schema changes, applied in order at start inside one transaction each.
 * Append only: a shipped migration is never edited, a new version is added instead.
 */
export const MIGRATIONS: readonly { readonly version: number; readonly sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE analyses (
        id            TEXT PRIMARY KEY,
        platform      TEXT NOT NULL,
        workspace_id  TEXT,
        channel_id    TEXT,
        user_id       TEXT,
        source_id     TEXT,
        source_name   TEXT,
        duration_s    REAL NOT NULL,
        model_id      TEXT NOT NULL,
        model_version TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
        error_code    TEXT,
        error_message TEXT
      ) STRICT;
      CREATE INDEX analyses_user ON analyses (platform, user_id, created_at);
      CREATE INDEX analyses_channel ON analyses (platform, channel_id, created_at);
      CREATE INDEX analyses_created ON analyses (created_at);

      CREATE TABLE segments (
        analysis_id   TEXT NOT NULL REFERENCES analyses (id) ON DELETE CASCADE,
        idx           INTEGER NOT NULL,
        start_s       REAL NOT NULL,
        end_s         REAL NOT NULL,
        silence       INTEGER NOT NULL CHECK (silence IN (0, 1)),
        probabilities TEXT,
        top           TEXT,
        band          TEXT,
        PRIMARY KEY (analysis_id, idx)
      ) STRICT;
    `,
  },
  {
    // Bot settings (issue 10): per-workspace (Discord guild / Slack workspace) settings, auto-analysis
    // channels, and per-platform user opt-outs. Still no audio.
    version: 2,
    sql: `
      CREATE TABLE workspace_settings (
        platform          TEXT NOT NULL,
        workspace_id      TEXT NOT NULL,
        digest_channel_id TEXT,
        retention_days    INTEGER CHECK (retention_days IS NULL OR retention_days > 0),
        updated_at        INTEGER NOT NULL,
        PRIMARY KEY (platform, workspace_id)
      ) STRICT;

      CREATE TABLE auto_analysis_channels (
        platform     TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        channel_id   TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        PRIMARY KEY (platform, workspace_id, channel_id)
      ) STRICT;

      CREATE TABLE opt_outs (
        platform   TEXT NOT NULL,
        user_id    TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (platform, user_id)
      ) STRICT;
    `,
  },
  {
    // Mood digest (issue 12): per-channel digest configuration, one row per digest claimed (the unique key
    // is what makes a digest exactly-once across restarts and processes), and maintenance job runs.
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
        active_since      INTEGER NOT NULL,
        updated_at        INTEGER NOT NULL,
        PRIMARY KEY (platform, workspace_id, channel_id)
      ) STRICT;
      CREATE INDEX digest_configs_enabled ON digest_configs (platform, enabled);

      CREATE TABLE digest_runs (
        platform        TEXT NOT NULL,
        workspace_id    TEXT NOT NULL,
        channel_id      TEXT NOT NULL,
        period_start    INTEGER NOT NULL,
        period_end      INTEGER NOT NULL,
        status          TEXT NOT NULL CHECK (status IN ('posted', 'empty', 'failed')),
        attempts        INTEGER NOT NULL,
        claimed_by      TEXT NOT NULL,
        claimed_at      INTEGER NOT NULL,
        message_id      TEXT,
        next_attempt_at INTEGER,
        error           TEXT,
        PRIMARY KEY (platform, workspace_id, channel_id, period_start)
      ) STRICT;

      CREATE TABLE job_runs (
        job        TEXT NOT NULL,
        run_key    TEXT NOT NULL,
        claimed_by TEXT NOT NULL,
        claimed_at INTEGER NOT NULL,
        PRIMARY KEY (job, run_key)
      ) STRICT;
      CREATE INDEX analyses_workspace ON analyses (platform, workspace_id, created_at);
    `,
  },
  {
    // Hardening (issue 17): accepted work recorded before it is acknowledged (answered after a restart),
    // platform event deliveries already handled (no double analysis after a restart), and a row the
    // process writes at open to prove the database writable.
    version: 4,
    sql: `
      CREATE TABLE jobs (
        id          TEXT PRIMARY KEY,
        platform    TEXT NOT NULL,
        user_id     TEXT NOT NULL,
        reply       TEXT NOT NULL,
        analysis_id TEXT,
        created_at  INTEGER NOT NULL,
        closed_at   INTEGER
      ) STRICT;
      CREATE INDEX jobs_open ON jobs (platform, created_at) WHERE closed_at IS NULL;

      CREATE TABLE deliveries (
        platform   TEXT NOT NULL,
        event_id   TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (platform, event_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX deliveries_expiry ON deliveries (expires_at);

      CREATE TABLE storage_meta (
        key   TEXT PRIMARY KEY,
        value ANY
      ) STRICT;
    `,
  },
];
