import type { WorkspaceSettingsPatch } from '../core/ports.ts';
import { ANALYSIS_COLUMNS, type SqlValue } from './rows.ts';

// Statements both backends run as they are, written once in Postgres's numbered parameters ($1, $2, …).
// SQLite has the same numbered parameters spelled ?1, ?2, … (`sqlite` in ./database.ts respells them), so
// a statement's meaning and its parameter list are one. Statements whose dialects differ stay in each
// adapter.

/** Parameters: platform, workspace id, channel id, now. */
export const ADD_AUTO_ANALYSIS_CHANNEL =
  'INSERT INTO auto_analysis_channels VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING';

/** Parameters: platform, workspace id, channel id. */
export const REMOVE_AUTO_ANALYSIS_CHANNEL =
  'DELETE FROM auto_analysis_channels WHERE platform = $1 AND workspace_id = $2 AND channel_id = $3';

/** Parameters: platform, workspace id, channel id. A row when it is one. */
export const IS_AUTO_ANALYSIS_CHANNEL =
  'SELECT 1 FROM auto_analysis_channels WHERE platform = $1 AND workspace_id = $2 AND channel_id = $3';

/** Parameters: platform, user id, now. Changes a row only when the user was not opted out. */
export const OPT_OUT = 'INSERT INTO opt_outs VALUES ($1, $2, $3) ON CONFLICT DO NOTHING';

/** Parameters: platform, user id. Changes a row only when the user was opted out. */
export const OPT_IN = 'DELETE FROM opt_outs WHERE platform = $1 AND user_id = $2';

/** Parameters: platform, user id. A row when the user opted out. */
export const IS_OPTED_OUT = 'SELECT 1 FROM opt_outs WHERE platform = $1 AND user_id = $2';

/** Parameters: platform, workspace id. */
export const SELECT_WORKSPACE_SETTINGS =
  'SELECT digest_channel_id, retention_days FROM workspace_settings WHERE platform = $1 AND workspace_id = $2';

/** Parameters: platform, workspace id. Oldest first. */
export const SELECT_AUTO_ANALYSIS_CHANNELS =
  'SELECT channel_id FROM auto_analysis_channels WHERE platform = $1 AND workspace_id = $2 ORDER BY created_at, channel_id';

/** Parameters: platform. Workspaces with an explicit retention (what the retention purge applies). */
export const SELECT_RETENTIONS =
  'SELECT workspace_id, retention_days FROM workspace_settings WHERE platform = $1 AND retention_days IS NOT NULL';

/**
 * Sets only the fields a patch names, in one statement: two processes patching different fields of one
 * workspace at once both keep their change (no read-then-write between them). Parameters: `patchValues`.
 */
export const PATCH_WORKSPACE_SETTINGS = `
  INSERT INTO workspace_settings (platform, workspace_id, digest_channel_id, retention_days, updated_at)
  VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (platform, workspace_id) DO UPDATE SET
    digest_channel_id = CASE WHEN $6 = 1 THEN excluded.digest_channel_id
                             ELSE workspace_settings.digest_channel_id END,
    retention_days = CASE WHEN $7 = 1 THEN excluded.retention_days ELSE workspace_settings.retention_days END,
    updated_at = excluded.updated_at`;

/** The parameters of PATCH_WORKSPACE_SETTINGS; undefined when the patch names neither field it sets. */
export function patchValues(
  platform: string,
  workspaceId: string,
  patch: WorkspaceSettingsPatch,
  now: number,
): SqlValue[] | undefined {
  if (patch.digestChannelId === undefined && patch.retentionDays === undefined) return undefined;
  return [
    platform,
    workspaceId,
    patch.digestChannelId ?? null,
    patch.retentionDays ?? null,
    now,
    patch.digestChannelId === undefined ? 0 : 1,
    patch.retentionDays === undefined ? 0 : 1,
  ];
}

/** Parameters: `nextConfigValues` (./rows.ts). Creates or replaces a channel's digest configuration. */
export const UPSERT_DIGEST_CONFIG = `
  INSERT INTO digest_configs (platform, workspace_id, channel_id, target_channel_id, enabled, schedule,
      time_zone, empty_line, active_since, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
  ON CONFLICT (platform, workspace_id, channel_id) DO UPDATE SET
    target_channel_id = excluded.target_channel_id, enabled = excluded.enabled,
    schedule = excluded.schedule, time_zone = excluded.time_zone, empty_line = excluded.empty_line,
    active_since = excluded.active_since, updated_at = excluded.updated_at`;

const DIGEST_CHANNEL = 'platform = $1 AND workspace_id = $2 AND channel_id = $3';

/** Parameters: platform, workspace id, channel id. */
export const SELECT_DIGEST_CONFIG = `SELECT * FROM digest_configs WHERE ${DIGEST_CHANNEL}`;

/** Parameters: platform, workspace id. */
export const SELECT_WORKSPACE_DIGEST_CONFIGS =
  'SELECT * FROM digest_configs WHERE platform = $1 AND workspace_id = $2 ORDER BY channel_id';

/** Parameters: platform. */
export const SELECT_ENABLED_DIGEST_CONFIGS =
  'SELECT * FROM digest_configs WHERE platform = $1 AND enabled = 1 ORDER BY workspace_id, channel_id';

/** Parameters: `finishValues` (./rows.ts), then platform, workspace id, channel id, period start. */
export const FINISH_DIGEST = `
  UPDATE digest_runs SET status = $1, message_id = $2, next_attempt_at = $3, error = $4
  WHERE platform = $5 AND workspace_id = $6 AND channel_id = $7 AND period_start = $8`;

/** Parameters: platform, workspace id, channel id, period start. */
export const SELECT_DIGEST_RUN = `SELECT * FROM digest_runs WHERE ${DIGEST_CHANNEL} AND period_start = $4`;

/** Parameters: platform, workspace id, channel id. Oldest period first. */
export const SELECT_DIGEST_RUNS = `SELECT * FROM digest_runs WHERE ${DIGEST_CHANNEL} ORDER BY period_start`;

/** Parameters: job, run key, claimant, now. Inserts a row only for the first claimant of a run. */
export const CLAIM_JOB = 'INSERT INTO job_runs VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING';

/**
 * Parameters: `analysisValues` (./rows.ts). Returns the row's id. An analysis with a job id is stored once
 * per job: storing it again (a worker retrying a job whose result it stored before it died) replaces the
 * first row's values under its id, so the caller then replaces its segments too.
 */
export const SAVE_ANALYSIS = `
  INSERT INTO analyses (${ANALYSIS_COLUMNS.join(', ')})
  VALUES (${ANALYSIS_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
  ON CONFLICT (job_id) WHERE job_id IS NOT NULL DO UPDATE SET
    ${ANALYSIS_COLUMNS.filter((c) => c !== 'id' && c !== 'job_id')
      .map((c) => `${c} = excluded.${c}`)
      .join(', ')}
  RETURNING id`;

/** Parameters: analysis id. Segments of a replaced analysis (see SAVE_ANALYSIS). */
export const DELETE_SEGMENTS = 'DELETE FROM segments WHERE analysis_id = $1';

/** Parameters: job id. The analysis stored for a job, if any. */
export const SELECT_JOB_ANALYSIS = 'SELECT * FROM analyses WHERE job_id = $1';

/** Parameters: id, platform, user id, reply, created at, owner (the gateway that answers it, or null). */
export const OPEN_JOB =
  'INSERT INTO jobs (id, platform, user_id, reply, created_at, owner) VALUES ($1, $2, $3, $4, $5, $6)';

/** Parameters: until (ms), id. The job is in the durable queue: a worker may deliver its result until then. */
export const SET_JOB_QUEUED = 'UPDATE jobs SET queued_until = $1 WHERE id = $2';

/**
 * Parameters: platform, owner. Open jobs of one gateway (and those from before jobs had owners), oldest
 * first; `insertion` is the column of insertion order (SQLite's rowid, Postgres's seq).
 */
export function unfinishedJobs(insertion: 'rowid' | 'seq'): string {
  return `SELECT * FROM jobs WHERE platform = $1 AND closed_at IS NULL AND (owner IS NULL OR owner = $2)
    ORDER BY created_at, ${insertion}`;
}

/** Parameters: reply, id. */
export const SET_JOB_REPLY = 'UPDATE jobs SET reply = $1 WHERE id = $2';

/** Parameters: analysis id, id. */
export const SET_JOB_ANALYSIS = 'UPDATE jobs SET analysis_id = $1 WHERE id = $2';

/** Parameters: now, id. A closed job stays closed at its first closing time. */
export const CLOSE_JOB = 'UPDATE jobs SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL';

/** Parameters: platform, event id, expires at. Inserts a row only for the first delivery of an event. */
export const FIRST_DELIVERY = 'INSERT INTO deliveries VALUES ($1, $2, $3) ON CONFLICT DO NOTHING';

/** Parameters: now. */
export const PURGE_DELIVERIES = 'DELETE FROM deliveries WHERE expires_at < $1';
