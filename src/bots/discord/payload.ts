import type { APIEmbed } from 'discord.js';
import type { ModelInfo } from '../../core/ports.ts';
import type { StoredAnalysis } from '../../core/records.ts';
import { summarize } from '../../core/summary.ts';
import { renderTimelineChart } from '../shared/chart.ts';
import { NOT_SAVED_LINE, notSaved } from '../shared/not-saved.ts';
import type { OkResult } from '../shared/text.ts';
import { CHART_NAME, resultEmbed, resultTitle } from './render.ts';

/** A finished job's reply as Discord message content: the result (embed and chart) or a failure's text. */

export interface ReplyPayload {
  content: string;
  embeds: APIEmbed[];
  files: { attachment: Buffer; name: string; description?: string }[];
}

export type JobOutcome =
  | { readonly kind: 'ok'; readonly result: OkResult; readonly chart: Buffer }
  | { readonly kind: 'error'; readonly text: string; readonly code: string };

export function replyPayload(outcome: JobOutcome, what: string, model: ModelInfo): ReplyPayload {
  if (outcome.kind === 'error') return { content: outcome.text, embeds: [], files: [] };
  return {
    content: notSaved(outcome.result) ? NOT_SAVED_LINE : '',
    embeds: [resultEmbed(outcome.result, model, resultTitle(outcome.result, what), true)],
    files: [{ attachment: outcome.chart, name: CHART_NAME, description: 'Emotion probabilities over time' }],
  };
}

/** A result as it was stored, rendered again (a restarted process answering work it had finished). */
export async function storedOutcome(stored: StoredAnalysis, model: ModelInfo): Promise<JobOutcome> {
  if (stored.outcome.status !== 'ok') throw new Error('internal: not a successful analysis');
  const { segments } = stored.outcome;
  const result: OkResult = {
    status: 'ok',
    durationS: stored.durationS,
    segments,
    summary: summarize({ durationS: stored.durationS, segments, droppedTailS: 0, model }),
    saved: { ok: true, analysis: stored },
  };
  return { kind: 'ok', result, chart: await renderTimelineChart(segments, { labels: model.trainedLabels }) };
}
