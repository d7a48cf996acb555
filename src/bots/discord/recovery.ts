import { type Client, InteractionWebhook } from 'discord.js';
import type { JobRecord, ModelInfo } from '../../core/ports.ts';
import type { StoredAnalysis } from '../../core/records.ts';
import type { Logger } from '../../log.ts';
import { RESTARTED_TEXT } from '../shared/refusals.ts';
import { deliverFinalReply, type ReplyRetryPolicy } from '../shared/reply-retry.ts';
import type { RecoveryAnswer } from '../shared/restart-recovery.ts';
import { type ReplyPayload, storedPayload } from './payload.ts';
import { INTERACTION_TOKEN_MS, isGone, TOKEN_MARGIN_MS } from './surfaces.ts';

/** Where a Discord job's waiting reply is, as recorded in the job journal (bot.ts writes it). */
export type DiscordReplyHandle =
  | {
      readonly kind: 'message';
      readonly channelId: string;
      /** The voice message answered (replied to). */
      readonly sourceMessageId: string;
      /** The "Listening…" reply, once posted. */
      readonly messageId?: string;
    }
  | {
      readonly kind: 'interaction';
      readonly applicationId: string;
      readonly token: string;
      readonly channelId: string;
      readonly userId: string;
      readonly createdAt: number;
    };

function parse(reply: unknown): DiscordReplyHandle | undefined {
  const r = reply as Partial<Record<string, unknown>> | undefined;
  if (typeof r?.channelId !== 'string') return undefined;
  if (r.kind === 'message' && typeof r.sourceMessageId === 'string') return r as DiscordReplyHandle;
  if (
    r.kind === 'interaction' &&
    typeof r.applicationId === 'string' &&
    typeof r.token === 'string' &&
    typeof r.userId === 'string' &&
    typeof r.createdAt === 'number'
  )
    return r as DiscordReplyHandle;
  return undefined;
}

/**
 * After a restart: the waiting reply of each unfinished Discord job is edited into its stored result or the
 * restart message (an edit of the same content is harmless if it already happened); a voice message whose
 * "Listening…" was never posted gets the answer as a new reply; an interaction whose token has expired is
 * answered in its channel, mentioning the user.
 */
export function discordRecovery(
  client: Client,
  model: ModelInfo,
  log: Logger,
  retry?: ReplyRetryPolicy,
): RecoveryAnswer<DiscordReplyHandle> {
  return {
    parse,
    async answer(job: JobRecord, handle, stored: StoredAnalysis | undefined) {
      if (!handle) throw new Error(`job ${job.id}: unreadable reply handle`);
      const payload = stored
        ? await storedPayload(stored, stored.sourceName ?? 'Voice message', model)
        : { content: RESTARTED_TEXT, embeds: [], files: [] };
      const channel = async () => {
        // After the shard count changed, the job's server may be another shard's now (not in this cache).
        const c = await client.channels.fetch(handle.channelId, { allowUnknownGuild: true });
        if (!c?.isSendable()) throw new Error('channel not sendable');
        return c;
      };
      if (handle.kind === 'message') {
        const { messageId } = handle;
        const post = async () =>
          (await channel()).send({
            ...payload,
            reply: { messageReference: handle.sourceMessageId, failIfNotExists: false },
          });
        if (!messageId) return void (await post());
        await expectDelivered(
          deliverFinalReply(
            {
              edit: async () => (await channel()).messages.edit(messageId, payload),
              replace: post,
              permanent: isGone,
            },
            log,
            retry,
          ),
        );
        return;
      }
      const mention = async (p: ReplyPayload) =>
        (await channel()).send({ ...p, content: `<@${handle.userId}> ${p.content}` });
      if (Date.now() > handle.createdAt + INTERACTION_TOKEN_MS - TOKEN_MARGIN_MS)
        return void (await mention(payload));
      const hook = new InteractionWebhook(client as Client<true>, handle.applicationId, handle.token);
      await expectDelivered(
        deliverFinalReply(
          {
            edit: () => hook.editMessage('@original', payload),
            replace: () => mention(payload),
            permanent: isGone,
          },
          log,
          retry,
        ),
      );
    },
  };
}

async function expectDelivered(delivery: Promise<string>): Promise<void> {
  if ((await delivery) === 'lost') throw new Error('the answer could not be delivered');
}
