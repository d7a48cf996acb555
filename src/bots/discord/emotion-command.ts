import type { ChatInputCommandInteraction } from 'discord.js';
import { admit } from '../shared/admission.ts';
import { onFileCommand } from './analyze-command.ts';
import { type DiscordContext, discordChecks, ephemeral } from './context.ts';
import { onBaseline, onForget, onHistory, onOptIn, onOptOut } from './privacy.ts';
import { digestNow, settingsAnswer } from './settings.ts';
import { voicePort } from './voice-port-impl.ts';

/** `/emotion <subcommand>`: one line per subcommand, each handled in the file of its concern. */
export async function onEmotion(
  ctx: DiscordContext,
  interaction: ChatInputCommandInteraction,
): Promise<void> {
  const group = interaction.options.getSubcommandGroup(false);
  if (group === 'digest') return digestNow(ctx.deps, interaction, (text) => ephemeral(interaction, text));
  if (group === 'baseline') return onBaseline(ctx, interaction, interaction.options.getSubcommand());
  const sub = interaction.options.getSubcommand();
  switch (sub) {
    case 'file':
      return onFileCommand(ctx, interaction);
    case 'history':
      return onHistory(ctx, interaction);
    case 'optout':
      return onOptOut(ctx, interaction);
    case 'optin':
      return onOptIn(ctx, interaction);
    case 'forget':
      return onForget(interaction);
    case 'settings':
      return ephemeral(interaction, await settingsAnswer(ctx.deps, interaction));
    case 'listen':
      return onListen(ctx, interaction);
    case 'stop':
      if (!ctx.deps.voice) return ephemeral(interaction, VOICE_UNAVAILABLE);
      return ctx.deps.voice.stop(interaction);
    default:
      return ephemeral(interaction, 'I do not know that command.');
  }
}

const VOICE_UNAVAILABLE = 'Voice-channel listening is not available on this bot.';

/** `/emotion listen`: the shared admission (no size: nothing is uploaded), then the voice session. */
async function onListen(ctx: DiscordContext, interaction: ChatInputCommandInteraction): Promise<void> {
  const { voice } = ctx.deps;
  if (!voice) return ephemeral(interaction, VOICE_UNAVAILABLE);
  const admission = await admit(
    discordChecks(ctx, {
      speakerId: interaction.user.id,
      requesterId: interaction.user.id,
      guildId: interaction.guildId,
    }).slice(0, -1),
  );
  if (!admission.ok) return ephemeral(interaction, admission.refusal.text);
  return voice.listen(interaction, voicePort(ctx));
}
