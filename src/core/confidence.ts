import type { Band, LabelConfidence } from './records.ts';

/** The report's colours: green at 80 % and above, orange from 60 %, red below. */
export function confidenceBand(confidence: number): Band {
  if (confidence >= 0.8) return 'green';
  if (confidence >= 0.6) return 'orange';
  return 'red';
}

/** The k most probable labels, highest first; ties keep label order so results are stable. */
export function topLabels(
  labels: readonly string[],
  probabilities: ArrayLike<number>,
  k: number,
): LabelConfidence[] {
  return labels
    .map((label, i) => ({ label, confidence: probabilities[i] ?? 0, i }))
    .sort((a, b) => b.confidence - a.confidence || a.i - b.i)
    .slice(0, k)
    .map(({ label, confidence }) => ({ label, confidence }));
}
