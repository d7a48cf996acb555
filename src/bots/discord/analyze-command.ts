import type { ChatInputCommandInteraction, MessageContextMenuCommandInteraction } from 'discord.js';
import { MessageFlags } from 'discord.js';
import { analyzeAttachment } from './attachment-job.ts';
import { type AudioSource, pickAudio, toSource } from './attachments.ts';
import { type DiscordContext, ephemeral } from './context.ts';
import { MESSAGES } from './messages.ts';
import { outcomePayload } from './payload.ts';
import { INTERACTION_TOKEN_MS, interactionSurface, TOKEN_MARGIN_MS } from './surfaces.ts';

/** `/emotion file`: the attached recording, analysed for the caller. */
export function onFileCommand(ctx: DiscordContext, interaction: ChatInputCommandInteraction): Promise<void> {
  const attachment = interaction.options.getAttachment('audio', true);
  return analyzeForInteraction(ctx, interaction, toSource(attachment), attachment.name);
}

/** The "Analyze emotions" message menu: the recording on someone's message, if its author allows it. */
export function onContextMenu(
  ctx: DiscordContext,
  interaction: MessageContextMenuCommandInteraction,
): Promise<void> {
  const target = interaction.targetMessage;
  const audio = pickAudio([...target.attachments.values()], target.flags.has(MessageFlags.IsVoiceMessage));
  if (!audio) return ephemeral(interaction, MESSAGES.noAudio);
  return analyzeForInteraction(ctx, interaction, audio, audio.name, target.author.id, target.id);
}

/** Admission, then a deferred ("thinking…") reply that becomes the result; failures only the caller sees. */
async function analyzeForInteraction(
  ctx: DiscordContext,
  interaction: ChatInputCommandInteraction | MessageContextMenuCommandInteraction,
  audio: AudioSource,
  title: string,
  speakerId = interaction.user.id,
  sourceId = audio.id,
): Promise<void> {
  const { deps } = ctx;
  const surface = interactionSurface({
    interaction,
    client: ctx.client,
    deadline: interaction.createdTimestamp + INTERACTION_TOKEN_MS - TOKEN_MARGIN_MS,
    render: (outcome) => outcomePayload(outcome, title, deps.analyzer.classifier.info),
    log: ctx.log,
    retry: deps.replyRetry,
  });
  await analyzeAttachment(
    ctx,
    {
      audio,
      guildId: interaction.guildId,
      channelId: interaction.channelId,
      requesterId: interaction.user.id,
      speakerId,
      sourceId,
      declaredSize: audio.size,
      reply: {
        kind: 'interaction',
        applicationId: interaction.applicationId,
        token: interaction.token,
        channelId: interaction.channelId,
        userId: interaction.user.id,
        createdAt: interaction.createdTimestamp,
      },
    },
    surface,
  );
}
