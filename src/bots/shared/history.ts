import type { StoredAnalysis } from '../../core/records.ts';

/** The top label heard most often in a stored analysis, and its share of the speech segments (history lines). */
export function mainEmotion(a: StoredAnalysis): { label: string; share: number } | null {
  if (a.outcome.status !== 'ok') return null;
  const counts = new Map<string, number>();
  let speech = 0;
  for (const s of a.outcome.segments) {
    if (s.kind !== 'speech') continue;
    speech++;
    const top = s.top[0];
    if (top) counts.set(top.label, (counts.get(top.label) ?? 0) + 1);
  }
  const best = [...counts.entries()].sort((x, y) => y[1] - x[1])[0];
  return best ? { label: best[0], share: best[1] / speech } : null;
}

/** How many history lines `/emotion history` and the Slack App Home show. */
export const HISTORY_SHOWN = 10;
