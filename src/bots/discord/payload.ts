import type { APIEmbed } from 'discord.js';
import type { ModelInfo } from '../../core/ports.ts';
import type { StoredAnalysis } from '../../core/records.ts';
import { renderTimelineChart } from '../shared/chart.ts';
import { NOT_SAVED_LINE, notSaved } from '../shared/not-saved.ts';
import { resultFromStored } from '../shared/stored-result.ts';
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
  const result = resultFromStored(stored, model);
  return {
    kind: 'ok',
    result,
    chart: await renderTimelineChart(result.segments, { labels: model.trainedLabels }),
  };
}
