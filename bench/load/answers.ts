// What counts as an answer in the load benchmark, platform-neutral: each user must get exactly one final
// answer — a result, or a coded refusal such as "busy" — within a bounded wait.
import { ERROR_CODES } from '../../src/core/errors.ts';
import { quantile } from '../support.ts';

export type AnswerKind = 'result' | 'busy' | 'other';

/** A message (or edit) the bot sent one user that is not a placeholder or progress line. */
export interface Answer {
  readonly kind: AnswerKind;
  /** Epoch ms at which the fake platform received it. */
  readonly at: number;
  readonly text: string;
}

export interface UserOutcome {
  /** Epoch ms at which the user's voice note left the fake platform. */
  readonly sentAt: number;
  readonly answers: readonly Answer[];
}

/**
 * "Listening…", "Analyzing…", "🎧 Analysing… 40%": the interim lines both adapters show before the
 * final answer. Matched by their first word so that rewording the rest does not break the count.
 */
export function isInterim(text: string): boolean {
  return /^\W*(listening|analy[sz]ing)\b/i.test(text);
}

/** A refusal text as a kind: "busy" is the core's inference.overloaded message, which both adapters send. */
export function refusalKind(text: string): AnswerKind {
  return text.includes(ERROR_CODES['inference.overloaded']) ? 'busy' : 'other';
}

export interface Latency {
  readonly count: number;
  readonly p50Seconds: number | null;
  readonly p95Seconds: number | null;
  readonly maxSeconds: number | null;
}

function latency(seconds: readonly number[]): Latency {
  if (seconds.length === 0) return { count: 0, p50Seconds: null, p95Seconds: null, maxSeconds: null };
  return {
    count: seconds.length,
    p50Seconds: quantile(seconds, 0.5),
    p95Seconds: quantile(seconds, 0.95),
    maxSeconds: Math.max(...seconds),
  };
}

export interface Tally {
  readonly users: number;
  /** No final answer within the wait. */
  readonly lost: number;
  /** More than one final answer. */
  readonly doubled: number;
  /** Users whose one answer was a result / a busy refusal / another refusal or error. */
  readonly results: number;
  readonly busy: number;
  readonly other: number;
  /** Up to three distinct texts of `other` answers, so that the report says what they were. */
  readonly otherTexts: readonly string[];
  /** From the note leaving the fake platform to the first final answer. */
  readonly resultLatency: Latency;
  readonly refusalLatency: Latency;
}

export function tally(outcomes: readonly UserOutcome[]): Tally {
  let lost = 0;
  let doubled = 0;
  const kinds = { result: 0, busy: 0, other: 0 };
  const otherTexts = new Set<string>();
  const resultSeconds: number[] = [];
  const refusalSeconds: number[] = [];
  for (const { sentAt, answers } of outcomes) {
    const first = [...answers].sort((a, b) => a.at - b.at)[0];
    if (!first) {
      lost++;
      continue;
    }
    if (answers.length > 1) doubled++;
    kinds[first.kind]++;
    if (first.kind === 'other' && otherTexts.size < 3) otherTexts.add(first.text.slice(0, 160));
    (first.kind === 'result' ? resultSeconds : refusalSeconds).push((first.at - sentAt) / 1000);
  }
  return {
    users: outcomes.length,
    lost,
    doubled,
    results: kinds.result,
    busy: kinds.busy,
    other: kinds.other,
    otherTexts: [...otherTexts],
    resultLatency: latency(resultSeconds),
    refusalLatency: latency(refusalSeconds),
  };
}
