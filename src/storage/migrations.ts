/** A schema change: applied in order at open, each in its own transaction, recorded in schema_migrations. */
export interface Migration {
  readonly version: number;
  readonly sql: string;
}

/**
 * The few words in which the SQLite and the Postgres DDL differ. Everything else (tables, columns,
 * constraints, indexes) is written once below, so both backends have the same tables and columns and one
 * row mapping (./rows.ts) serves both.
 */
export interface Dialect {
  /** Millisecond timestamps (64 bits: SQLite's INTEGER is, Postgres's is not). */
  readonly ms: string;
  /** A float: seconds of audio. */
  readonly real: string;
  /** A column that holds a value of any type. */
  readonly any: string;
  /** What follows a table's closing parenthesis. */
  readonly strict: string;
  /** The same, for a table that needs no rowid (SQLite) either. */
  readonly strictWithoutRowid: string;
  /**
   * The tie-break of equal timestamps on analyses and jobs (insertion order): nothing where the backend
   * has one implicitly (SQLite's rowid), else a new line defining a column `seq` (right after `id`).
   */
  readonly seq: string;
}

export const SQLITE: Dialect = {
  ms: 'INTEGER',
  real: 'REAL',
  any: 'ANY',
  strict: ' STRICT',
  strictWithoutRowid: ' STRICT, WITHOUT ROWID',
  seq: '',
};

/**
 * Versioned schema changes in a backend's dialect. Append only: a shipped migration is never edited, a new
 * version is added instead (and so reaches both backends).
 */
export function migrations(d: Dialect): readonly Migration[] {
  return [
    {
      version: 1,
      sql: `
      CREATE TABLE analyses (
        id            TEXT PRIMARY KEY,${d.seq}
        platform      TEXT NOT NULL,
        workspace_id  TEXT,
        channel_id    TEXT,
        user_id       TEXT,
        source_id     TEXT,
        source_name   TEXT,
        duration_s    ${d.real} NOT NULL,
        model_id      TEXT NOT NULL,
        model_version TEXT NOT NULL,
        created_at    ${d.ms} NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
        error_code    TEXT,
        error_message TEXT
      )${d.strict};
      CREATE INDEX analyses_user ON analyses (platform, user_id, created_at);
      CREATE INDEX analyses_channel ON analyses (platform, channel_id, created_at);
      CREATE INDEX analyses_created ON analyses (created_at);

      CREATE TABLE segments (
        analysis_id   TEXT NOT NULL REFERENCES analyses (id) ON DELETE CASCADE,
        idx           INTEGER NOT NULL,
        start_s       ${d.real} NOT NULL,
        end_s         ${d.real} NOT NULL,
        silence       INTEGER NOT NULL CHECK (silence IN (0, 1)),
        probabilities TEXT,
        top           TEXT,
        band          TEXT,
        PRIMARY KEY (analysis_id, idx)
      )${d.strict};
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
        updated_at        ${d.ms} NOT NULL,
        PRIMARY KEY (platform, workspace_id)
      )${d.strict};

      CREATE TABLE auto_analysis_channels (
        platform     TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        channel_id   TEXT NOT NULL,
        created_at   ${d.ms} NOT NULL,
        PRIMARY KEY (platform, workspace_id, channel_id)
      )${d.strict};

      CREATE TABLE opt_outs (
        platform   TEXT NOT NULL,
        user_id    TEXT NOT NULL,
        created_at ${d.ms} NOT NULL,
        PRIMARY KEY (platform, user_id)
      )${d.strict};
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
        active_since      ${d.ms} NOT NULL,
        updated_at        ${d.ms} NOT NULL,
        PRIMARY KEY (platform, workspace_id, channel_id)
      )${d.strict};
      CREATE INDEX digest_configs_enabled ON digest_configs (platform, enabled);

      CREATE TABLE digest_runs (
        platform        TEXT NOT NULL,
        workspace_id    TEXT NOT NULL,
        channel_id      TEXT NOT NULL,
        period_start    ${d.ms} NOT NULL,
        period_end      ${d.ms} NOT NULL,
        status          TEXT NOT NULL CHECK (status IN ('posted', 'empty', 'failed')),
        attempts        INTEGER NOT NULL,
        claimed_by      TEXT NOT NULL,
        claimed_at      ${d.ms} NOT NULL,
        message_id      TEXT,
        next_attempt_at ${d.ms},
        error           TEXT,
        PRIMARY KEY (platform, workspace_id, channel_id, period_start)
      )${d.strict};

      CREATE TABLE job_runs (
        job        TEXT NOT NULL,
        run_key    TEXT NOT NULL,
        claimed_by TEXT NOT NULL,
        claimed_at ${d.ms} NOT NULL,
        PRIMARY KEY (job, run_key)
      )${d.strict};
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
        id          TEXT PRIMARY KEY,${d.seq}
        platform    TEXT NOT NULL,
        user_id     TEXT NOT NULL,
        reply       TEXT NOT NULL,
        analysis_id TEXT,
        created_at  ${d.ms} NOT NULL,
        closed_at   ${d.ms}
      )${d.strict};
      CREATE INDEX jobs_open ON jobs (platform, created_at) WHERE closed_at IS NULL;

      CREATE TABLE deliveries (
        platform   TEXT NOT NULL,
        event_id   TEXT NOT NULL,
        expires_at ${d.ms} NOT NULL,
        PRIMARY KEY (platform, event_id)
      )${d.strictWithoutRowid};
      CREATE INDEX deliveries_expiry ON deliveries (expires_at);

      CREATE TABLE storage_meta (
        key   TEXT PRIMARY KEY,
        value ${d.any}
      )${d.strict};
    `,
    },
    {
      // Voice baseline (issue 21): per user and model, Welford statistics of the recording embedding (JSON
      // arrays of numbers: derived numbers only, never audio). workspace_id is '' where there is none.
      version: 5,
      sql: `
      CREATE TABLE voice_baselines (
        platform      TEXT NOT NULL,
        workspace_id  TEXT NOT NULL,
        user_id       TEXT NOT NULL,
        model_id      TEXT NOT NULL,
        model_version TEXT NOT NULL,
        count         INTEGER NOT NULL CHECK (count > 0),
        mean          TEXT NOT NULL,
        m2            TEXT NOT NULL,
        updated_at    ${d.ms} NOT NULL,
        PRIMARY KEY (platform, workspace_id, user_id, model_id, model_version)
      )${d.strict};
      CREATE INDEX voice_baselines_user ON voice_baselines (platform, user_id);
    `,
    },
    {
      // Scale-out durability (issue 20): an analysis stored for a job is stored once, however often a worker
      // retries it (the unique job id); a job names the gateway that owns its answer and, once handed to the
      // durable queue, until when a worker may still deliver its result (a restarted gateway waits that long).
      version: 6,
      sql: `
      ALTER TABLE analyses ADD COLUMN job_id TEXT;
      CREATE UNIQUE INDEX analyses_job ON analyses (job_id) WHERE job_id IS NOT NULL;
      ALTER TABLE jobs ADD COLUMN owner TEXT;
      ALTER TABLE jobs ADD COLUMN queued_until ${d.ms};
    `,
    },
  ];
}

/** The SQLite schema (the default backend). */
export const MIGRATIONS = migrations(SQLITE);
