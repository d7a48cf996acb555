import type { AnalysisResult } from '../../core/analyze.ts';

/**
 * A finished analysis whose result could not be stored (a locked or failed database) still reaches the
 * user, with this line, so they know it is not in their history or digests.
 */
export const NOT_SAVED_LINE = '⚠️ This result could not be saved, so it is not in your history or digests.';

export function notSaved(result: Extract<AnalysisResult, { status: 'ok' }>): boolean {
  return result.saved?.ok === false;
}

/** The stored row's id, when the result was saved. */
export function savedId(result: Extract<AnalysisResult, { status: 'ok' }>): string | undefined {
  return result.saved?.ok ? result.saved.analysis.id : undefined;
}
