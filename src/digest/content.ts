import type { StoredAnalysis } from '../core/records.ts';
import { buckets as bucketsOf, type Period } from './schedule.ts';

/**
 * What a channel's digest says about a period, platform-neutral: counts only. No recording is quoted,
 * no person is named, and recordings of people who opted out are left out before anything is counted.
 */

/** The emotions whose confident moments are counted (never quoted). */
export const MOMENT_LABELS = ['anger', 'fear', 'sad', 'happy'] as const;
export const HIGH_CONFIDENCE = 0.8;

export interface DigestStats {
  readonly recordings: number;
  /** Minutes of speech (speech segments), silence excluded. */
  readonly speakingMinutes: number;
  readonly speechSegments: number;
  /** Share of speech segments by their top emotion, most frequent first. */
  readonly distribution: readonly {
    readonly label: string;
    readonly share: number;
    readonly segments: number;
  }[];
  /** Speech segments whose top emotion is one of MOMENT_LABELS at ≥ 80 %, per label (in MOMENT_LABELS order). */
  readonly moments: readonly { readonly label: string; readonly count: number }[];
}

export interface DigestBucket {
  readonly label: string;
  /** Speech segments per top emotion. */
  readonly counts: Readonly<Record<string, number>>;
}

export interface Digest {
  readonly channelId: string;
  readonly timeZone: string;
  /** The schedule kind decides the wording ("yesterday", "last week"). */
  readonly scheduleKind: 'daily' | 'weekly' | 'cron';
  readonly period: Period;
  readonly previousPeriod: Period;
  readonly current: DigestStats;
  readonly previous: DigestStats;
  readonly granularity: 'hour' | 'day';
  readonly buckets: readonly DigestBucket[];
  /** Labels to chart, in legend order. */
  readonly labels: readonly string[];
}

export interface DigestInput {
  readonly channelId: string;
  readonly timeZone: string;
  readonly scheduleKind: Digest['scheduleKind'];
  readonly period: Period;
  readonly previousPeriod: Period;
  /** Analyses of the channel in each period; failed ones and opted-out people's are dropped here. */
  readonly analyses: readonly StoredAnalysis[];
  readonly previousAnalyses: readonly StoredAnalysis[];
  readonly optedOut: (userId: string) => boolean;
  readonly labels: readonly string[];
}

type Ok = StoredAnalysis & { outcome: { status: 'ok' } };

function usable(rows: readonly StoredAnalysis[], optedOut: (userId: string) => boolean): Ok[] {
  return rows.filter(
    (r): r is Ok => r.outcome.status === 'ok' && (r.userId === undefined || !optedOut(r.userId)),
  );
}

function speechOf(r: Ok) {
  return r.outcome.segments.flatMap((s) => (s.kind === 'speech' ? [s] : []));
}

export function stats(rows: readonly Ok[]): DigestStats {
  let seconds = 0;
  const counts = new Map<string, number>();
  const moments = new Map<string, number>(MOMENT_LABELS.map((l) => [l, 0]));
  let speechSegments = 0;
  for (const r of rows) {
    for (const s of speechOf(r)) {
      speechSegments++;
      seconds += Math.max(0, Math.min(s.endS, r.durationS) - s.startS);
      const top = s.top[0];
      if (!top) continue;
      counts.set(top.label, (counts.get(top.label) ?? 0) + 1);
      if (moments.has(top.label) && top.confidence >= HIGH_CONFIDENCE)
        moments.set(top.label, (moments.get(top.label) ?? 0) + 1);
    }
  }
  return {
    recordings: rows.length,
    speakingMinutes: seconds / 60,
    speechSegments,
    distribution: [...counts.entries()]
      .map(([label, n]) => ({ label, segments: n, share: n / speechSegments }))
      .sort((a, b) => b.segments - a.segments || a.label.localeCompare(b.label)),
    moments: MOMENT_LABELS.map((label) => ({ label, count: moments.get(label) ?? 0 })),
  };
}

export function buildDigest(input: DigestInput): Digest {
  const rows = usable(input.analyses, input.optedOut);
  const before = usable(input.previousAnalyses, input.optedOut);
  const slots = bucketsOf(input.period, input.timeZone);
  const granularity = slots.length > 0 && slots[0] && slots.length <= 60 && isHourly(slots) ? 'hour' : 'day';
  const counts = slots.map(() => new Map<string, number>());
  for (const r of rows) {
    const t = r.createdAt.getTime();
    const i = slots.findIndex((b) => t >= b.start && t < b.end);
    const bucket = counts[i];
    if (!bucket) continue;
    for (const s of speechOf(r)) {
      const top = s.top[0];
      if (top) bucket.set(top.label, (bucket.get(top.label) ?? 0) + 1);
    }
  }
  return {
    channelId: input.channelId,
    timeZone: input.timeZone,
    scheduleKind: input.scheduleKind,
    period: input.period,
    previousPeriod: input.previousPeriod,
    current: stats(rows),
    previous: stats(before),
    granularity,
    buckets: slots.map((b, i) => ({ label: b.label, counts: Object.fromEntries(counts[i] ?? []) })),
    labels: input.labels,
  };
}

function isHourly(slots: readonly { start: number; end: number }[]): boolean {
  return slots.every((b) => b.end - b.start <= 3600_000);
}
