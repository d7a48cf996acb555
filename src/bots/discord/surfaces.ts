import {
  type ChatInputCommandInteraction,
  type Client,
  DiscordAPIError,
  type Message,
  type MessageContextMenuCommandInteraction,
  MessageFlags,
} from 'discord.js';
import type { Logger } from '../../log.ts';
import type { JobOutcome, Surface } from '../shared/job.ts';
import type { SegmentsDone } from '../shared/progress.ts';
import { DEFAULT_REPLY_RETRY, deliverFinalReply, type ReplyRetryPolicy } from '../shared/reply-retry.ts';
import { ephemeral } from './context.ts';
import type { ReplyPayload } from './payload.ts';

/**
 * Discord's two surfaces for the shared job (shared/job.ts): a voice message's reply, and an interaction's
 * deferred reply, each edited in place with progress, then with the outcome by the shared retry/replace
 * policy (shared/reply-retry.ts).
 */

interface Common {
  readonly render: (outcome: JobOutcome) => Promise<ReplyPayload>;
  readonly log: Logger;
  readonly retry?: ReplyRetryPolicy | undefined;
}

/** Discord edits are cheap: progress every 1.5 s, and only for recordings long enough to wait on. */
const PROGRESS = { everyMs: 1500, minSegments: 8 } as const;

export function progressText(p: SegmentsDone): string {
  return `🎧 Analysing… ${Math.round((p.done / p.total) * 100)}% (${p.done} of ${p.total} segments)`;
}

/** An interaction token lives 15 minutes; past this (less a margin) we post to the channel instead. */
export const INTERACTION_TOKEN_MS = 15 * 60_000;
export const TOKEN_MARGIN_MS = 60_000;

/** Discord errors no retry fixes: the message, channel or webhook is gone, or the token expired. */
const GONE = new Set([10003, 10008, 10015, 50027]);
export function isGone(error: unknown): boolean {
  return error instanceof DiscordAPIError && (GONE.has(Number(error.code)) || error.status === 404);
}

/** A voice message's "Listening…" reply; in a server, an opted-out author is not answered at all. */
export function messageSurface(
  options: Common & { readonly message: Message; readonly where: object },
): Surface {
  const { message, render, log } = options;
  let placeholder: Message | undefined;
  return {
    progressPolicy: PROGRESS,
    refuse: async (refusal) => {
      if (refusal.code === 'opted_out.self' && message.guildId !== null) return;
      await message.reply(refusal.text);
    },
    open: async (ticket) => {
      placeholder = await message.reply('🎧 Listening to your voice message…');
      await ticket.reply({ ...options.where, messageId: placeholder.id });
      return true;
    },
    progress: async (p) => placeholder?.edit(progressText(p)),
    done: async (outcome) => {
      const shown = placeholder;
      if (!shown) return;
      const payload = await render(outcome);
      await deliverFinalReply(
        {
          edit: () => shown.edit(payload),
          replace: async () => {
            const channel = shown.channel;
            if (!channel.isSendable()) throw new Error('channel not sendable');
            await channel.send({
              ...payload,
              reply: { messageReference: message.id, failIfNotExists: false },
            });
          },
          permanent: isGone,
        },
        log,
        options.retry ?? DEFAULT_REPLY_RETRY,
      );
    },
  };
}

/** An interaction's deferred ("thinking…") reply; past `deadline` its token is about to expire. */
export function interactionSurface(
  options: Common & {
    readonly interaction: ChatInputCommandInteraction | MessageContextMenuCommandInteraction;
    readonly client: Client;
    readonly deadline: number;
  },
): Surface {
  const { interaction, render, log, deadline } = options;
  const toChannel = async (payload: ReplyPayload) => {
    const channel = await options.client.channels.fetch(interaction.channelId);
    if (!channel?.isSendable()) throw new Error('channel not sendable');
    await channel.send({ ...payload, content: `<@${interaction.user.id}> ${payload.content}` });
  };
  return {
    progressPolicy: PROGRESS,
    refuse: (refusal) => ephemeral(interaction, refusal.text),
    open: async () => {
      await interaction.deferReply();
      return true;
    },
    progress: async (p) => {
      if (Date.now() <= deadline) await interaction.editReply(progressText(p));
    },
    done: async (outcome) => {
      const payload = await render(outcome);
      // The interaction token is about to expire: answer in the channel instead.
      if (Date.now() > deadline) return await toChannel(payload);
      if (outcome.kind === 'error') {
        // Only the caller needs to see a failure: drop the public "thinking" reply, answer ephemerally.
        await interaction.deleteReply().catch(() => undefined);
        await interaction.followUp({ content: outcome.text, flags: MessageFlags.Ephemeral });
        return;
      }
      await deliverFinalReply(
        {
          edit: () => interaction.editReply(payload),
          replace: async () => {
            if (Date.now() > deadline) return toChannel(payload);
            await interaction.followUp(payload).catch(() => toChannel(payload));
          },
          permanent: isGone,
        },
        log,
        options.retry ?? DEFAULT_REPLY_RETRY,
      );
    },
  };
}
