import type { webApi } from '@slack/bolt';
import type { Logger } from '../../log.ts';
import { type Delivery, deliverFinalReply, type ReplyRetryPolicy } from '../shared/reply-retry.ts';
import type { RenderedMessage } from './blocks.ts';

/** Where a clip's "Analyzing…" reply is: its thread and, once posted, its ts. Recorded in the job journal. */
export interface SlackReplyHandle {
  readonly channel: string;
  readonly threadTs: string;
  readonly ts?: string;
}

/** Slack errors no retry fixes: the message or channel is gone, or may no longer be edited. */
const GONE = /message_not_found|channel_not_found|cant_update_message|is_archived|edit_window_closed/;
function isGone(error: unknown): boolean {
  const code = (error as { data?: { error?: unknown } } | undefined)?.data?.error;
  return typeof code === 'string' && GONE.test(code);
}

/**
 * Puts the final message in place of "Analyzing…" by the shared retry/replace policy: chat.update retried
 * with backoff, else chat.postMessage in the clip's thread (or a post right away when no reply was posted).
 */
export function finishReply(
  client: webApi.WebClient,
  log: Logger,
  where: SlackReplyHandle,
  message: RenderedMessage,
  retry?: ReplyRetryPolicy,
): Promise<Delivery> {
  const post = async () => {
    await client.chat.postMessage({
      channel: where.channel,
      thread_ts: where.threadTs,
      text: message.text,
      blocks: message.blocks,
    });
  };
  const { ts } = where;
  if (!ts) return post().then(() => 'replaced' as const);
  return deliverFinalReply(
    {
      edit: () =>
        client.chat.update({ channel: where.channel, ts, text: message.text, blocks: message.blocks }),
      replace: post,
      permanent: isGone,
    },
    log,
    retry,
  );
}
