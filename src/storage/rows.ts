import { isErrorCode } from '../core/errors.ts';
import type {
  DigestConfig,
  DigestConfigPatch,
  DigestOutcome,
  DigestRun,
  DigestRunStatus,
  JobRecord,
  WorkspaceSettings,
} from '../core/ports.ts';
import type { AnalysisRecord, Band, SegmentResult, StoredAnalysis } from '../core/records.ts';

/**
 * Records ⇄ rows, shared by the SQLite and the Postgres adapters: both schemas have the same tables and
 * columns (timestamps as integer milliseconds, flags as 0/1 integers, JSON as text), so only the SQL
 * dialect differs between them, never what a column means.
 */
export type Row = Readonly<Record<string, unknown>>;
export type SqlValue = string | number | null;

export const ANALYSIS_COLUMNS = [
  'id',
  'platform',
  'workspace_id',
  'channel_id',
  'user_id',
  'source_id',
  'source_name',
  'duration_s',
  'model_id',
  'model_version',
  'created_at',
  'status',
  'error_code',
  'error_message',
  'job_id',
] as const;

/** Values of one analysis row, in ANALYSIS_COLUMNS order. */
export function analysisValues(id: string, record: AnalysisRecord): SqlValue[] {
  const { outcome } = record;
  return [
    id,
    record.platform,
    record.workspaceId ?? null,
    record.channelId ?? null,
    record.userId ?? null,
    record.sourceId ?? null,
    record.sourceName ?? null,
    record.durationS,
    record.model.id,
    record.model.version,
    record.createdAt.getTime(),
    outcome.status,
    outcome.status === 'failed' ? outcome.error.code : null,
    outcome.status === 'failed' ? outcome.error.message : null,
    record.jobId ?? null,
  ];
}

export const SEGMENT_COLUMNS = [
  'analysis_id',
  'idx',
  'start_s',
  'end_s',
  'silence',
  'probabilities',
  'top',
  'band',
] as const;

/** Values of one segment row, in SEGMENT_COLUMNS order. */
export function segmentValues(analysisId: string, s: SegmentResult): SqlValue[] {
  const speech = s.kind === 'speech';
  return [
    analysisId,
    s.index,
    s.startS,
    s.endS,
    speech ? 0 : 1,
    speech ? JSON.stringify(s.probabilities) : null,
    speech ? JSON.stringify(s.top) : null,
    speech ? s.band : null,
  ];
}

/** An analysis row and its segment rows (ordered by idx; none for a failed analysis). */
export function toAnalysis(row: Row, segments: readonly Row[]): StoredAnalysis {
  const optional = (column: string, key: string) =>
    row[column] === null || row[column] === undefined ? {} : { [key]: String(row[column]) };
  const base = {
    id: String(row.id),
    platform: String(row.platform),
    ...optional('workspace_id', 'workspaceId'),
    ...optional('channel_id', 'channelId'),
    ...optional('user_id', 'userId'),
    ...optional('source_id', 'sourceId'),
    ...optional('source_name', 'sourceName'),
    ...optional('job_id', 'jobId'),
    durationS: Number(row.duration_s),
    model: { id: String(row.model_id), version: String(row.model_version) },
    createdAt: new Date(Number(row.created_at)),
  };
  if (row.status === 'failed') {
    const code = String(row.error_code);
    return {
      ...base,
      outcome: {
        status: 'failed',
        // A code this version no longer knows is reported as a generic failure rather than dropped.
        error: { code: isErrorCode(code) ? code : 'inference.failed', message: String(row.error_message) },
      },
    };
  }
  return { ...base, outcome: { status: 'ok', segments: segments.map(toSegment) } };
}

function toSegment(s: Row): SegmentResult {
  const common = { index: Number(s.idx), startS: Number(s.start_s), endS: Number(s.end_s) };
  if (Number(s.silence) === 1) return { ...common, kind: 'silence' };
  return {
    ...common,
    kind: 'speech',
    probabilities: JSON.parse(String(s.probabilities)),
    top: JSON.parse(String(s.top)),
    band: parseBand(s.band),
  };
}

function parseBand(value: unknown): Band {
  if (value === 'green' || value === 'orange' || value === 'red') return value;
  throw new Error(`corrupt segment row: band ${String(value)}`);
}

/** A workspace_settings row (undefined: nothing set) and its auto_analysis_channels rows. */
export function toWorkspace(row: Row | undefined, channels: readonly Row[]): WorkspaceSettings {
  return {
    autoAnalysisChannels: channels.map((c) => String(c.channel_id)),
    digestChannelId: row?.digest_channel_id == null ? null : String(row.digest_channel_id),
    retentionDays: row?.retention_days == null ? null : Number(row.retention_days),
  };
}

export function toRetention(row: Row): { workspaceId: string; retentionDays: number } {
  return { workspaceId: String(row.workspace_id), retentionDays: Number(row.retention_days) };
}

export function toConfig(row: Row): DigestConfig {
  return {
    platform: String(row.platform),
    workspaceId: String(row.workspace_id),
    channelId: String(row.channel_id),
    targetChannelId: String(row.target_channel_id),
    enabled: Number(row.enabled) === 1,
    schedule: String(row.schedule),
    timeZone: String(row.time_zone),
    emptyLine: Number(row.empty_line) === 1,
    activeSince: new Date(Number(row.active_since)),
  };
}

/**
 * The digest config after `patch`, as the values of a digest_configs row (in column order). A new
 * schedule, zone or switching on starts afresh: no digest for fires before now.
 */
export function nextConfigValues(
  key: { platform: string; workspaceId: string; channelId: string },
  current: DigestConfig | undefined,
  patch: DigestConfigPatch,
  defaults: Omit<DigestConfig, 'platform' | 'workspaceId' | 'channelId' | 'activeSince'>,
  now: Date,
): SqlValue[] {
  const base = current ?? { ...defaults, ...key, activeSince: now };
  const next = { ...base, ...definedOnly(patch) };
  const restart =
    !current ||
    next.schedule !== current.schedule ||
    next.timeZone !== current.timeZone ||
    (next.enabled && !current.enabled);
  return [
    key.platform,
    key.workspaceId,
    key.channelId,
    next.targetChannelId,
    next.enabled ? 1 : 0,
    next.schedule,
    next.timeZone,
    next.emptyLine ? 1 : 0,
    restart ? now.getTime() : base.activeSince.getTime(),
    now.getTime(),
  ];
}

function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function toRun(row: Row): DigestRun {
  return {
    platform: String(row.platform),
    workspaceId: String(row.workspace_id),
    channelId: String(row.channel_id),
    periodStart: Number(row.period_start),
    periodEnd: Number(row.period_end),
    status: String(row.status) as DigestRunStatus,
    attempts: Number(row.attempts),
    claimedBy: String(row.claimed_by),
    messageId: row.message_id == null ? null : String(row.message_id),
    nextAttemptAt: row.next_attempt_at == null ? null : Number(row.next_attempt_at),
    error: row.error == null ? null : String(row.error),
  };
}

/** How a finished digest is recorded: status, message_id, next_attempt_at, error (in that order). */
export function finishValues(outcome: DigestOutcome): SqlValue[] {
  return [
    outcome.status,
    outcome.status === 'posted' ? outcome.messageId : null,
    outcome.status === 'failed' ? (outcome.nextAttemptAt?.getTime() ?? null) : null,
    outcome.status === 'failed' ? outcome.error.slice(0, 500) : null,
  ];
}

export function toJob(row: Row): JobRecord {
  return {
    id: String(row.id),
    platform: String(row.platform),
    userId: String(row.user_id),
    reply: String(row.reply),
    analysisId: row.analysis_id == null ? null : String(row.analysis_id),
    queuedUntil: row.queued_until == null ? null : new Date(Number(row.queued_until)),
    createdAt: new Date(Number(row.created_at)),
  };
}
