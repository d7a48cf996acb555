import type { BaselineStats } from '../core/baseline.ts';
import type { BaselineKey } from '../core/ports.ts';
import type { Row, SqlValue } from './rows.ts';

// The voice-baseline statements (migration 5), run as they are by both backends (see ./statements.ts for
// the parameter spelling). Statistics are JSON arrays of numbers: a few hundred per person, never audio.

/** Parameters: the key (platform, workspace id, user id, model id, model version). */
export const SELECT_BASELINE = `SELECT count, mean, m2 FROM voice_baselines
  WHERE platform = $1 AND workspace_id = $2 AND user_id = $3 AND model_id = $4 AND model_version = $5`;

/** Parameters: the key, count, mean, m2, now. */
export const UPSERT_BASELINE = `INSERT INTO voice_baselines VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
  ON CONFLICT (platform, workspace_id, user_id, model_id, model_version)
  DO UPDATE SET count = excluded.count, mean = excluded.mean, m2 = excluded.m2, updated_at = excluded.updated_at`;

/** Parameters: the key. The user's baselines under other models: invalidated by the model change. */
export const DELETE_OTHER_MODELS = `DELETE FROM voice_baselines
  WHERE platform = $1 AND workspace_id = $2 AND user_id = $3 AND NOT (model_id = $4 AND model_version = $5)`;

/** Parameters: platform, workspace id, user id. Reset: every model's baseline of the user in one workspace. */
export const RESET_BASELINE =
  'DELETE FROM voice_baselines WHERE platform = $1 AND workspace_id = $2 AND user_id = $3';

/** Parameters: platform, user id. Forget and opt-out: every baseline of the user on the platform. */
export const DELETE_USER_BASELINES = 'DELETE FROM voice_baselines WHERE platform = $1 AND user_id = $2';

export function keyValues(key: BaselineKey): SqlValue[] {
  return [key.platform, key.workspaceId, key.userId, key.modelId, key.modelVersion];
}

export function statsValues(stats: BaselineStats, now: Date): SqlValue[] {
  return [stats.count, JSON.stringify(stats.mean), JSON.stringify(stats.m2), now.getTime()];
}

/** A stored row's statistics; a row that does not hold them (damaged by hand) counts as none. */
export function toStats(row: Row | undefined): BaselineStats | undefined {
  if (!row) return undefined;
  const count = Number(row.count);
  const mean = numbers(row.mean);
  const m2 = numbers(row.m2);
  if (!Number.isInteger(count) || count < 1 || !mean || !m2 || mean.length !== m2.length) return undefined;
  return { count, mean, m2 };
}

function numbers(text: unknown): number[] | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isFinite(v))
      ? (value as number[])
      : undefined;
  } catch {
    return undefined;
  }
}
