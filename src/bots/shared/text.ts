import type { AnalysisResult } from '../../core/analyze.ts';
import { confidenceBand } from '../../core/confidence.ts';
import type { Band, LabelConfidence, SegmentResult } from '../../core/records.ts';
import type { Summary } from '../../core/summary.ts';

/** Plain-text pieces of a result that every chat platform renders the same way. */

export const BAND_EMOJI: Readonly<Record<Band, string>> = { green: '🟢', orange: '🟠', red: '🔴' };
export const SILENCE_EMOJI = '⚪';

/** 0:05, 1:02:03 */
export function clock(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

export function pct(p: number): string {
  return `${Math.round(p * 100)}%`;
}

export function topText(top: readonly LabelConfidence[]): string {
  return top.map((t) => `${t.label} ${pct(t.confidence)}`).join(' · ');
}

/** One line per segment: "🟢 0:00–0:05 neutral 81% · sad 9% · happy 4%". */
export function segmentLine(s: SegmentResult): string {
  const range = `${clock(s.startS)}–${clock(s.endS)}`;
  if (s.kind === 'silence') return `${SILENCE_EMOJI} ${range} silence`;
  return `${BAND_EMOJI[s.band]} ${range} ${topText(s.top)}`;
}

/**
 * Runs of consecutive segments with the same top label (or silence) merged into one line: how long
 * recordings are summarised when one line per segment would not fit.
 */
export function runLines(segments: readonly SegmentResult[]): string[] {
  const lines: string[] = [];
  let i = 0;
  while (i < segments.length) {
    const first = segments[i] as SegmentResult;
    const key = first.kind === 'silence' ? '' : (first.top[0]?.label ?? '');
    let j = i + 1;
    while (j < segments.length) {
      const s = segments[j] as SegmentResult;
      const k = s.kind === 'silence' ? '' : (s.top[0]?.label ?? '');
      if (k !== key) break;
      j++;
    }
    const run = segments.slice(i, j);
    const last = run.at(-1) as SegmentResult;
    const range = `${clock(first.startS)}–${clock(last.endS)}`;
    const n = run.length;
    if (key === '') lines.push(`${SILENCE_EMOJI} ${range} silence`);
    else {
      const mean =
        run.reduce((sum, s) => sum + (s.kind === 'speech' ? (s.top[0]?.confidence ?? 0) : 0), 0) / n;
      lines.push(
        `${BAND_EMOJI[confidenceBand(mean)]} ${range} ${key} ${pct(mean)}${n > 1 ? ` (${n} segments)` : ''}`,
      );
    }
    i = j;
  }
  return lines;
}

/** "neutral 62% · sad 25% · happy 13%" of speech segments' top labels. */
export function distributionText(summary: Summary): string {
  return summary.distribution.map((d) => `${d.label} ${pct(d.share)}`).join(' · ');
}

/** "Mostly neutral (mean 72%) — …", the label in the platform's bold (Markdown `**` by default, Slack `*`). */
export function overallLine(summary: Summary, bold: (text: string) => string = (t) => `**${t}**`): string {
  if (!summary.dominant) return 'Only silence: no emotion to report.';
  return `Mostly ${bold(summary.dominant.label)} (mean ${pct(summary.dominant.confidence)}) — ${distributionText(summary)}`;
}

export type OkResult = Extract<AnalysisResult, { status: 'ok' }>;

/** Lines that fit `budget` characters: every segment when possible, else merged runs, else cut with a note. */
export function fitSegmentLines(segments: readonly SegmentResult[], budget: number): string[] {
  const total = (lines: string[]) => lines.reduce((n, l) => n + l.length + 1, 0);
  const full = segments.map(segmentLine);
  if (total(full) <= budget) return full;
  const runs = runLines(segments);
  if (total(runs) <= budget) return runs;
  const kept: string[] = [];
  let used = 0;
  const reserve = 60;
  for (const line of runs) {
    if (used + line.length + 1 > budget - reserve) break;
    kept.push(line);
    used += line.length + 1;
  }
  kept.push(`… and ${runs.length - kept.length} more stretches: see the chart.`);
  return kept;
}
