import { type ChatInputCommandInteraction, MessageFlags, PermissionFlagsBits } from 'discord.js';
import { type DigestSettingsInput, hasDigestInput } from '../../digest/settings.ts';
import { changeChannelDigest, channelDigestPreview } from '../shared/digest-commands.ts';
import { settingsFacts } from '../shared/settings-summary.ts';
import type { DiscordBotDeps } from './context.ts';
import { digestPayload } from './digest.ts';
import { MESSAGES, PLATFORM } from './messages.ts';

/** `/emotion settings …` (Manage Server only): applies the options and answers with the server's settings. */
export async function settingsAnswer(
  deps: DiscordBotDeps,
  interaction: ChatInputCommandInteraction,
): Promise<string> {
  const guildId = interaction.guildId;
  if (!guildId) return MESSAGES.guildOnly;
  if (!interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) return MESSAGES.notAdmin;
  const channel = interaction.options.getChannel('channel');
  const auto = interaction.options.getBoolean('auto');
  const digest = interaction.options.getChannel('digest_channel');
  const retention = interaction.options.getInteger('retention_days');
  const channelId = channel?.id ?? interaction.channelId;
  const digestInput: DigestSettingsInput = {
    ...optional('enabled', interaction.options.getBoolean('digest')),
    ...optional('schedule', interaction.options.getString('digest_schedule')),
    ...optional('timeZone', interaction.options.getString('digest_timezone')),
    ...optional('emptyLine', interaction.options.getBoolean('digest_empty_line')),
  };
  const digestNote: string[] = [];
  if (hasDigestInput(digestInput) || (digest && deps.digest)) {
    const d = deps.digest;
    if (!d) return 'The mood digest is not available on this bot.';
    const existing = await d.store.config(PLATFORM, guildId, channelId);
    if (hasDigestInput(digestInput) || existing) {
      const change = await changeChannelDigest(
        { platform: PLATFORM, settings: deps.settings, digest: d },
        { workspaceId: guildId, channelId },
        { ...digestInput, ...(digest ? { targetChannelId: digest.id } : {}) },
      );
      if (!change.ok) return change.text;
      digestNote.push(change.text);
    }
  }
  const settings = await deps.settings.updateWorkspace(PLATFORM, guildId, {
    ...(auto === true ? { addAutoAnalysisChannel: channelId } : {}),
    ...(auto === false ? { removeAutoAnalysisChannel: channelId } : {}),
    ...(digest ? { digestChannelId: digest.id } : {}),
    ...(retention !== null ? { retentionDays: retention === 0 ? null : retention } : {}),
  });
  const digests = deps.digest ? await deps.digest.store.workspaceConfigs(PLATFORM, guildId) : [];
  const facts = settingsFacts(settings, digests);
  const lines = [
    '**Emotion settings for this server**',
    `Auto-analysis of voice messages in: ${facts.autoChannels ?? 'no channel'}`,
    `Digest channel: ${facts.digestChannel}`,
    `Results kept: ${facts.retention}`,
  ];
  if (facts.digests.length > 0) lines.push(`Mood digests:\n${facts.digests.join('\n')}`);
  lines.unshift(...digestNote);
  if (settings.autoAnalysisChannels.length > 0 && !deps.config.DISCORD_MESSAGE_CONTENT_INTENT) {
    lines.push(
      '⚠️ This bot runs without the Message Content intent, so Discord does not show it the audio of voice messages in server channels; members can still use the **Analyze emotions** message menu.',
    );
  }
  return lines.join('\n');
}

/** `/emotion digest now`: this channel's digest for its latest complete period, to the caller only. */
export async function digestNow(
  deps: DiscordBotDeps,
  interaction: ChatInputCommandInteraction,
  ephemeral: (text: string) => Promise<void>,
): Promise<void> {
  const guildId = interaction.guildId;
  if (!guildId) return ephemeral(MESSAGES.guildOnly);
  const d = deps.digest;
  if (!d) return ephemeral('The mood digest is not available on this bot.');
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const digest = await channelDigestPreview(
    {
      platform: PLATFORM,
      store: deps.store,
      settings: deps.settings,
      digest: d,
      labels: deps.analyzer.classifier.info.trainedLabels,
    },
    guildId,
    interaction.channelId,
  );
  await interaction.editReply(await digestPayload(digest, true));
}

function optional<K extends string, V>(key: K, value: V | null): { [P in K]?: V } {
  return (value === null ? {} : { [key]: value }) as { [P in K]?: V };
}
