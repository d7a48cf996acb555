import type { ChatInputCommandInteraction, MessageContextMenuCommandInteraction } from 'discord.js';
import { MessageFlags } from 'discord.js';
import { runJob } from '../shared/job.ts';
import { type AudioSource, attachmentDownload, pickAudio, toSource } from './attachments.ts';
import { type DiscordContext, discordChecks, ephemeral } from './context.ts';
import { MESSAGES, PLATFORM } from './messages.ts';
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
  await runJob(
    ctx.pipeline,
    {
      checks: discordChecks(ctx, {
        speakerId,
        requesterId: interaction.user.id,
        guildId: interaction.guildId,
        declaredSize: audio.size,
      }),
      journal: {
        platform: PLATFORM,
        userId: interaction.user.id,
        reply: {
          kind: 'interaction',
          applicationId: interaction.applicationId,
          token: interaction.token,
          channelId: interaction.channelId,
          userId: interaction.user.id,
          createdAt: interaction.createdTimestamp,
        },
      },
      audio,
      download: attachmentDownload(audio, {
        maxBytes: deps.analyzer.limits.maxBytes,
        hosts: deps.config.DISCORD_CDN_HOSTS,
        timeoutMs: deps.config.bot.downloadTimeoutMs,
      }),
      context: {
        platform: PLATFORM,
        ...(interaction.guildId ? { workspaceId: interaction.guildId } : {}),
        channelId: interaction.channelId,
        userId: speakerId,
        sourceId,
        sourceName: audio.name,
      },
    },
    surface,
  );
}
