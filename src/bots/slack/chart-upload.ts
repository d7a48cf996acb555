import type { webApi } from '@slack/bolt';
import type { SegmentResult } from '../../core/records.ts';
import type { Logger } from '../../log.ts';
import { renderTimelineChart } from '../shared/chart.ts';
import { redactTokens } from './log.ts';

/** The timeline chart, uploaded into the clip's thread under the result. A failure is logged, never thrown. */
export async function uploadChart(
  client: webApi.WebClient,
  log: Logger,
  where: { readonly channel: string; readonly threadTs: string },
  result: {
    readonly segments: readonly SegmentResult[];
    readonly labels: readonly string[];
    readonly name: string;
  },
): Promise<void> {
  try {
    const png = await renderTimelineChart(result.segments, {
      labels: result.labels,
      title: `Emotions over time: ${result.name}`,
    });
    await client.filesUploadV2({
      channel_id: where.channel,
      thread_ts: where.threadTs,
      file: png,
      filename: 'emotion-timeline.png',
      title: 'Emotion timeline',
      alt_text: 'Chart of each emotion’s probability per 5-second segment over time',
    });
  } catch (error) {
    log.warn({ err: redactTokens(String(error)) }, 'could not upload the chart');
  }
}
