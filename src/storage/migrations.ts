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
];
