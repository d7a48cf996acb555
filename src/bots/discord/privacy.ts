import {
  ActionRowBuilder,
  ButtonBuilder,
  type ButtonInteraction,
  ButtonStyle,
  type ChatInputCommandInteraction,
  MessageFlags,
} from 'discord.js';
import { HISTORY_SHOWN } from '../shared/history.ts';
import { type BaselineOwner, baselineStatus, resetBaseline } from '../shared/voice-baseline.ts';
import { type DiscordContext, ephemeral } from './context.ts';
import { PLATFORM } from './messages.ts';
import { baselineText, historyText } from './render.ts';

/**
 * `/emotion history`, `optout`, `optin`, `forget`, the forget buttons and `/emotion baseline status|reset`:
 * what is kept about a person.
 */

export async function onHistory(
  ctx: DiscordContext,
  interaction: ChatInputCommandInteraction,
): Promise<void> {
  const rows = await ctx.deps.store.userHistory(PLATFORM, interaction.user.id, HISTORY_SHOWN);
  return ephemeral(interaction, `**Your last analyses**\n${historyText(rows)}`);
}

export async function onOptOut(ctx: DiscordContext, interaction: ChatInputCommandInteraction): Promise<void> {
  await ctx.deps.settings.setOptedOut(PLATFORM, interaction.user.id, true);
  return ephemeral(
    interaction,
    'Done: I will not analyse your voice any more — not your voice messages, not through the context menu, and not in voice channels. Your voice baseline is deleted; your past results are kept, and `/emotion forget` deletes them.',
  );
}

export async function onBaseline(
  ctx: DiscordContext,
  interaction: ChatInputCommandInteraction,
  action: string,
): Promise<void> {
  const who: BaselineOwner = {
    platform: PLATFORM,
    workspaceId: interaction.guildId,
    userId: interaction.user.id,
  };
  if (action === 'reset') {
    const deleted = await resetBaseline(ctx.deps, who);
    return ephemeral(
      interaction,
      deleted
        ? 'Done: your voice baseline here is deleted; it starts again from your next recording.'
        : 'There was no voice baseline of yours here.',
    );
  }
  return ephemeral(interaction, baselineText(await baselineStatus(ctx.deps, who)));
}

export async function onOptIn(ctx: DiscordContext, interaction: ChatInputCommandInteraction): Promise<void> {
  await ctx.deps.settings.setOptedOut(PLATFORM, interaction.user.id, false);
  return ephemeral(interaction, 'Welcome back: I will analyse your voice when you or others ask.');
}

export async function onForget(interaction: ChatInputCommandInteraction): Promise<void> {
  const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder()
      .setCustomId('forget:yes')
      .setLabel('Delete all my results')
      .setStyle(ButtonStyle.Danger),
    new ButtonBuilder().setCustomId('forget:no').setLabel('Keep them').setStyle(ButtonStyle.Secondary),
  );
  await interaction.reply({
    content: 'Delete **all** your stored analyses, and your voice baseline? This cannot be undone.',
    components: [row],
    flags: MessageFlags.Ephemeral,
  });
}

export async function onForgetButton(ctx: DiscordContext, interaction: ButtonInteraction): Promise<void> {
  if (interaction.customId !== 'forget:yes') {
    await interaction.update({ content: 'Nothing was deleted.', components: [] });
    return;
  }
  const n = await ctx.deps.store.deleteUser(PLATFORM, interaction.user.id);
  await interaction.update({
    content: `Deleted ${n} stored ${n === 1 ? 'analysis' : 'analyses'}.`,
    components: [],
  });
}
