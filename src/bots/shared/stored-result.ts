import type { ModelInfo } from '../../core/ports.ts';
import type { StoredAnalysis } from '../../core/records.ts';
import { summarize } from '../../core/summary.ts';
import type { OkResult } from './text.ts';

/**
 * A successful stored analysis as a result again, for a restarted process answering work it had finished:
 * the summary is recomputed from the stored segments (the dropped tail is not stored, so its note is absent).
 */
export function resultFromStored(stored: StoredAnalysis, model: ModelInfo): OkResult {
  if (stored.outcome.status !== 'ok') throw new Error('internal: not a successful analysis');
  const { segments } = stored.outcome;
  return {
    status: 'ok',
    durationS: stored.durationS,
    segments,
    summary: summarize({ durationS: stored.durationS, segments, droppedTailS: 0, model }),
    saved: { ok: true, analysis: stored },
  };
}
