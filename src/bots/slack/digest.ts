import type { webApi } from '@slack/bolt';
import type { DigestConfig } from '../../core/ports.ts';
import type { Digest } from '../../digest/content.ts';
import type { DigestPoster } from '../../digest/scheduler.ts';
import { digestLines, digestTitle, emptyLine, isEmpty } from '../../digest/text.ts';
import type { Logger } from '../../log.ts';
import { renderMoodChart } from '../shared/mood-chart.ts';
import { redactTokens } from './log.ts';

/** The mood digest as a Slack message (mrkdwn section blocks), with the chart uploaded after it. */

export function digestMessage(digest: Digest): { text: string; blocks: Record<string, unknown>[] } {
  if (isEmpty(digest)) return { text: emptyLine(digest), blocks: [] };
  const title = digestTitle(digest);
  const lines = digestLines(digest, (s) => `*${s}*`);
  return {
    text: `${title}: ${digest.current.recordings} recordings analysed`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: lines.slice(0, -1).join('\n').slice(0, 3000) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: (lines.at(-1) ?? '').slice(0, 3000) }] },
    ],
  };
}

/**
 * Posts through the Web API (its own request timeout and 429 retries). Only chat.postMessage decides
 * whether the digest was posted: a failed chart upload is logged, never retried (that would repost).
 */
export function slackDigestPoster(client: webApi.WebClient, logger: Logger): DigestPoster {
  return {
    async post(config: DigestConfig, digest: Digest, signal: AbortSignal) {
      signal.throwIfAborted();
      const message = digestMessage(digest);
      const posted = await client.chat.postMessage({
        channel: config.targetChannelId,
        text: message.text,
        ...(message.blocks.length ? { blocks: message.blocks } : {}),
        unfurl_links: false,
      });
      if (!isEmpty(digest) && posted.ts && !signal.aborted) {
        try {
          const png = await renderMoodChart(digest.buckets, {
            labels: digest.labels,
            title: `Emotion mix per ${digest.granularity} (share of speech)`,
          });
          await client.filesUploadV2({
            channel_id: config.targetChannelId,
            thread_ts: posted.ts,
            file: png,
            filename: 'mood-digest.png',
            title: 'Mood digest chart',
            alt_text: `Share of each emotion in speech per ${digest.granularity}`,
          });
        } catch (error) {
          logger.warn({ err: redactTokens(String(error)) }, 'could not upload the digest chart');
        }
      }
      return { messageId: posted.ts ?? null };
    },
  };
}
