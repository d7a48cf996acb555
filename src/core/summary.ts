import { baselineNote } from './baseline.ts';
import type { ModelInfo } from './ports.ts';
import type { LabelConfidence, SegmentResult, SpeechSegment } from './records.ts';

/** Said wherever results are shown: what these numbers are, and what they are not. */
export const ESTIMATE_NOTE = 'Estimates from how the voice sounds — not facts about a person.';

export interface LabelShare {
  readonly label: string;
  /** Fraction of speech segments whose top emotion is this label. */
  readonly share: number;
  readonly segments: number;
}

/** What every adapter renders: platform-neutral, no formatting. */
export interface Summary {
  readonly durationS: number;
  readonly speechSegments: number;
  readonly silentSegments: number;
  /** The emotion heard most often as a segment's top label (ties: higher mean probability); null when all silent. */
  readonly dominant: LabelConfidence | null;
  /** Top-label shares across speech segments, most frequent first. */
  readonly distribution: readonly LabelShare[];
  /** Mean probability of every label across speech segments, in model label order. */
  readonly meanProbabilities: Readonly<Record<string, number>>;
  /** Plain-language notes a user should see (silence, dropped tail, fixture model, voice baseline). */
  readonly notes: readonly string[];
  /** Present when the probabilities were judged against the speaker's usual voice (issue 21). */
  readonly voiceBaseline?: { readonly recordings: number };
}

export interface SummaryInput {
  readonly durationS: number;
  readonly segments: readonly SegmentResult[];
  readonly droppedTailS: number;
  readonly model: Pick<ModelInfo, 'labels' | 'trainedLabels' | 'fixture'>;
  /** Earlier recordings of the speaker the baseline head's input was normalised with; absent when not used. */
  readonly baselineRecordings?: number;
}

export function summarize({
  durationS,
  segments,
  droppedTailS,
  model,
  baselineRecordings,
}: SummaryInput): Summary {
  const speech = segments.filter((s): s is SpeechSegment => s.kind === 'speech');
  const silentSegments = segments.length - speech.length;

  const meanProbabilities: Record<string, number> = {};
  for (const label of model.labels) {
    meanProbabilities[label] = speech.length
      ? speech.reduce((sum, s) => sum + (s.probabilities[label] ?? 0), 0) / speech.length
      : 0;
  }

  const counts = new Map<string, number>();
  for (const s of speech) {
    const top = s.top[0];
    if (top) counts.set(top.label, (counts.get(top.label) ?? 0) + 1);
  }
  const distribution = [...counts.entries()]
    .map(([label, n]) => ({ label, segments: n, share: n / speech.length }))
    .sort(
      (a, b) =>
        b.segments - a.segments || (meanProbabilities[b.label] ?? 0) - (meanProbabilities[a.label] ?? 0),
    );
  const first = distribution[0];
  const dominant = first ? { label: first.label, confidence: meanProbabilities[first.label] ?? 0 } : null;

  const notes: string[] = [];
  if (silentSegments > 0) {
    notes.push(
      `${silentSegments} of ${segments.length} segments were silent and were not analysed for emotion.`,
    );
  }
  if (droppedTailS > 0) {
    notes.push(`The last ${droppedTailS.toFixed(1)} s were under 1 second long and were not analysed.`);
  }
  if (baselineRecordings !== undefined) notes.push(baselineNote(baselineRecordings));
  if (model.fixture) notes.push('Test fixture model: these numbers are not real emotion estimates.');
  return {
    durationS,
    speechSegments: speech.length,
    silentSegments,
    dominant,
    distribution,
    meanProbabilities,
    notes,
    ...(baselineRecordings !== undefined && { voiceBaseline: { recordings: baselineRecordings } }),
  };
}
