import type { APIEmbed, Client } from 'discord.js';
import type { DigestConfig } from '../../core/ports.ts';
import type { Digest } from '../../digest/content.ts';
import type { DigestPoster } from '../../digest/scheduler.ts';
import { digestLines, digestTitle, emptyLine, isEmpty } from '../../digest/text.ts';
import { clip } from '../shared/clip.ts';
import { renderMoodChart } from '../shared/mood-chart.ts';

/** The mood digest as a Discord message: one embed and the emotion-mix chart, or the one empty line. */

export const DIGEST_CHART_NAME = 'mood-digest.png';

export interface DigestPayload {
  content: string;
  embeds: APIEmbed[];
  files: { attachment: Buffer; name: string; description?: string }[];
}

export async function digestPayload(digest: Digest, preview = false): Promise<DigestPayload> {
  if (isEmpty(digest))
    return { content: `${preview ? '(Preview) ' : ''}${emptyLine(digest)}`, embeds: [], files: [] };
  const chart = await renderMoodChart(digest.buckets, {
    labels: digest.labels,
    title: `Emotion mix per ${digest.granularity} (share of speech)`,
  });
  return {
    content: preview ? 'Preview of the mood digest (only you see this):' : '',
    embeds: [
      {
        title: clip(digestTitle(digest), 256),
        description: clip(digestLines(digest, (s) => `**${s}**`).join('\n'), 4096),
        color: 0x5e35b1,
        image: { url: `attachment://${DIGEST_CHART_NAME}` },
      },
    ],
    files: [
      {
        attachment: chart,
        name: DIGEST_CHART_NAME,
        description: `Emotion mix per ${digest.granularity}`,
      },
    ],
  };
}

/** Posts digests through the bot's client (REST; discord.js bounds each request with its own timeout). */
export function discordDigestPoster(client: Client): DigestPoster {
  return {
    async post(config: DigestConfig, digest: Digest, signal: AbortSignal) {
      signal.throwIfAborted();
      // With shards, whichever process claims a digest posts it (posting is REST, not the gateway), so the
      // server may be another shard's and missing from this process's cache: the channel is taken as REST
      // gives it, and Discord refuses the post if the bot may not write there.
      const channel = await client.channels.fetch(config.targetChannelId, { allowUnknownGuild: true });
      if (!channel?.isSendable())
        throw new Error(`digest target ${config.targetChannelId} is not a channel I can post in`);
      const payload = await digestPayload(digest);
      signal.throwIfAborted();
      const message = await channel.send({ ...payload, allowedMentions: { parse: [] } });
      return { messageId: message.id };
    },
  };
}
