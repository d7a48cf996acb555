import {
  type ChatInputCommandInteraction,
  type Client,
  DiscordAPIError,
  type Message,
  type MessageContextMenuCommandInteraction,
  MessageFlags,
} from 'discord.js';
import type { Logger } from '../../log.ts';
import type { JobTicket } from '../shared/job-ticket.ts';
import { DEFAULT_REPLY_RETRY, deliverFinalReply, type ReplyRetryPolicy } from '../shared/reply-retry.ts';
import type { JobOutcome, ReplyPayload } from './payload.ts';

/**
 * The reply surface of one request — a voice message's reply or an interaction's deferred reply — edited in
 * place with progress, then with the outcome. The final edit follows the shared retry/replace policy
 * (shared/reply-retry.ts), and the job is closed in the journal once the user was answered.
 */
export interface Surface {
  progress(text: string): Promise<unknown>;
  /** The result is stored under this id: recorded so a restart can show it. */
  stored(analysisId: string): Promise<void>;
  done(outcome: JobOutcome): Promise<unknown>;
}

interface Common {
  readonly ticket: JobTicket;
  readonly render: (outcome: JobOutcome) => ReplyPayload;
  readonly log: Logger;
  readonly retry?: ReplyRetryPolicy | undefined;
}

/** An interaction token lives 15 minutes; past this (less a margin) we post to the channel instead. */
export const INTERACTION_TOKEN_MS = 15 * 60_000;
export const TOKEN_MARGIN_MS = 60_000;

/** Discord errors no retry fixes: the message, channel or webhook is gone, or the token expired. */
const GONE = new Set([10003, 10008, 10015, 50027]);
export function isGone(error: unknown): boolean {
  return error instanceof DiscordAPIError && (GONE.has(Number(error.code)) || error.status === 404);
}

/** A voice message's "Listening…" reply. */
export function messageSurface(
  options: Common & { readonly placeholder: Message; readonly sourceMessageId: string },
): Surface {
  const { placeholder, ticket, render, log } = options;
  let chain: Promise<unknown> = Promise.resolve();
  return {
    progress: (text) => (chain = chain.then(() => placeholder.edit(text)).catch(() => undefined)),
    stored: (id) => ticket.analysed(id),
    done: async (outcome) => {
      try {
        await chain;
        const payload = render(outcome);
        await deliverFinalReply(
          {
            edit: () => placeholder.edit(payload),
            replace: async () => {
              const channel = placeholder.channel;
              if (!channel.isSendable()) throw new Error('channel not sendable');
              await channel.send({
                ...payload,
                reply: { messageReference: options.sourceMessageId, failIfNotExists: false },
              });
            },
            permanent: isGone,
          },
          log,
          options.retry ?? DEFAULT_REPLY_RETRY,
        );
      } finally {
        await ticket.close();
      }
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
  const { interaction, ticket, render, log, deadline } = options;
  const toChannel = async (payload: ReplyPayload) => {
    const channel = await options.client.channels.fetch(interaction.channelId);
    if (!channel?.isSendable()) throw new Error('channel not sendable');
    await channel.send({ ...payload, content: `<@${interaction.user.id}> ${payload.content}` });
  };
  let chain: Promise<unknown> = Promise.resolve();
  return {
    progress: (text) => {
      if (Date.now() > deadline) return chain;
      chain = chain.then(() => interaction.editReply(text)).catch(() => undefined);
      return chain;
    },
    stored: (id) => ticket.analysed(id),
    done: async (outcome) => {
      try {
        await chain;
        const payload = render(outcome);
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
      } finally {
        await ticket.close();
      }
    },
  };
}
