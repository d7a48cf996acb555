import type { APIEmbed } from 'discord.js';
import type { ModelInfo } from '../../core/ports.ts';
import type { StoredAnalysis } from '../../core/records.ts';
import { renderTimelineChart } from '../shared/chart.ts';
import type { JobOutcome } from '../shared/job.ts';
import { NOT_SAVED_LINE, notSaved } from '../shared/not-saved.ts';
import { resultFromStored } from '../shared/stored-result.ts';
import { CHART_NAME, resultEmbed, resultTitle } from './render.ts';

/** A finished job's reply as Discord message content: the result (embed and chart) or a failure's text. */

export interface ReplyPayload {
  content: string;
  embeds: APIEmbed[];
  files: { attachment: Buffer; name: string; description?: string }[];
}

export async function outcomePayload(
  outcome: JobOutcome,
  what: string,
  model: ModelInfo,
): Promise<ReplyPayload> {
  if (outcome.kind === 'error') return { content: outcome.text, embeds: [], files: [] };
  const { result } = outcome;
  const chart = await renderTimelineChart(result.segments, { labels: model.trainedLabels });
  return {
    content: notSaved(result) ? NOT_SAVED_LINE : '',
    embeds: [resultEmbed(result, model, resultTitle(result, what), true)],
    files: [{ attachment: chart, name: CHART_NAME, description: 'Emotion probabilities over time' }],
  };
}

/** A result as it was stored, rendered again (a restarted process answering work it had finished). */
export function storedPayload(stored: StoredAnalysis, what: string, model: ModelInfo): Promise<ReplyPayload> {
  return outcomePayload({ kind: 'ok', result: resultFromStored(stored, model) }, what, model);
}
