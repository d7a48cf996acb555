import type { AnalysisResult } from './analyze.ts';
import type { ModelInfo } from './ports.ts';

/**
 * The JSON contract of one analysed file (README, "JSON contract"): `annamalai analyze --format json`
 * prints it as one line per file and the web API answers with it, so both share this one serialiser.
 */
export function toReportJson(
  file: string,
  result: AnalysisResult,
  model: Pick<ModelInfo, 'id' | 'version' | 'name' | 'fixture'>,
): Record<string, unknown> {
  if (result.status === 'failed') {
    return { file, error: { code: result.error.code, message: result.error.userMessage } };
  }
  const { summary } = result;
  return {
    file,
    duration_s: round(result.durationS),
    model: { id: model.id, version: model.version, name: model.name, fixture: model.fixture },
    segments: result.segments.map((s) => ({
      start_s: round(s.startS),
      end_s: round(s.endS),
      silence: s.kind === 'silence',
      top: s.kind === 'speech' ? s.top.map((t) => ({ label: t.label, confidence: round(t.confidence) })) : [],
      probabilities:
        s.kind === 'speech'
          ? Object.fromEntries(Object.entries(s.probabilities).map(([label, p]) => [label, round(p)]))
          : null,
      band: s.kind === 'speech' ? s.band : null,
    })),
    summary: {
      dominant: summary.dominant && {
        label: summary.dominant.label,
        confidence: round(summary.dominant.confidence),
      },
      distribution: summary.distribution.map((d) => ({
        label: d.label,
        share: round(d.share),
        segments: d.segments,
      })),
      speech_segments: summary.speechSegments,
      silent_segments: summary.silentSegments,
      notes: summary.notes,
    },
  };
}

/** One line of `analyze --format json`. */
export function toJsonLine(
  file: string,
  result: AnalysisResult,
  model: Pick<ModelInfo, 'id' | 'version' | 'name' | 'fixture'>,
): string {
  return JSON.stringify(toReportJson(file, result, model));
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
