import { type Message, MessageFlags } from 'discord.js';
import { analyzeAttachment } from './attachment-job.ts';
import { pickAudio } from './attachments.ts';
import type { DiscordContext } from './context.ts';
import { PLATFORM } from './messages.ts';
import { outcomePayload } from './payload.ts';
import { messageSurface } from './surfaces.ts';

/**
 * A voice message (or an audio file) sent in a DM, or a voice message in a server channel where
 * auto-analysis is on: answered by a reply that says "Listening…" and becomes the result.
 */
export async function onVoiceMessage(ctx: DiscordContext, message: Message): Promise<void> {
  if (message.author.bot || message.system) return;
  const { deps } = ctx;
  const isVoice = message.flags.has(MessageFlags.IsVoiceMessage);
  if (message.guildId !== null) {
    if (!isVoice) return;
    if (!(await deps.settings.isAutoAnalysisChannel(PLATFORM, message.guildId, message.channelId))) return;
    if (message.attachments.size === 0) {
      // Without the Message Content intent, Discord strips attachments from server messages.
      ctx.log.warn(
        { channel: message.channelId },
        'voice message without attachments: Message Content intent is off',
      );
      return;
    }
  }
  const audio = pickAudio([...message.attachments.values()], isVoice);
  if (!audio) return;
  const where = { kind: 'message', channelId: message.channelId, sourceMessageId: message.id } as const;
  const title = isVoice ? 'Voice message' : audio.name;
  const surface = messageSurface({
    message,
    where,
    render: (outcome) => outcomePayload(outcome, title, deps.analyzer.classifier.info),
    log: ctx.log,
    retry: deps.replyRetry,
  });
  await analyzeAttachment(
    ctx,
    {
      audio,
      guildId: message.guildId,
      channelId: message.channelId,
      requesterId: message.author.id,
      speakerId: message.author.id,
      sourceId: message.id,
      // No declared size: a voice message's declared size was never refused before download.
      reply: where,
    },
    surface,
  );
}
