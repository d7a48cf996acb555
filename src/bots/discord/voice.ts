import { EndBehaviorType } from '@discordjs/voice';
import { type ChatInputCommandInteraction, MessageFlags, type VoiceState } from 'discord.js';
import type { PcmAnalyzerDeps } from '../../core/analyze.ts';
import type { SettingsStore } from '../../core/ports.ts';
import type { Logger } from '../../log.ts';
import { ShuttingDownError } from '../shared/work-queue.ts';
import type { DiscordConfig } from './config.ts';
import { PLATFORM } from './messages.ts';
import { analyzeSpeakers, SpeakerCollector } from './speakers.ts';
import { discordVoiceConnector, type ListeningConnection, type VoiceConnector } from './voice-connection.ts';
import type { VoiceCommands, VoicePort } from './voice-port.ts';

export type { ListeningConnection, VoiceConnector } from './voice-connection.ts';

/**
 * `/emotion listen` and `/emotion stop`: joins the caller's voice channel (@discordjs/voice, DAVE through
 * @snazzah/davey, not self-deafened, self-muted), posts a visible notice, collects each speaker's Opus
 * packets (opted-out members are never subscribed and their packets are dropped before decoding), and
 * when time runs out, on stop, or when the channel empties, leaves and posts one summary per speaker.
 */

export interface VoiceOptions {
  readonly settings: SettingsStore;
  readonly analyzer: PcmAnalyzerDeps;
  readonly logger: Logger;
  readonly config: DiscordConfig;
  /** How long to wait for the voice connection to become ready. */
  readonly joinTimeoutMs?: number;
  readonly connect?: VoiceConnector;
}

interface Session {
  readonly guildId: string;
  readonly voiceChannelId: string;
  readonly textChannelId: string;
  readonly connection: ListeningConnection;
  readonly collector: SpeakerCollector;
  readonly optedOut: Map<string, boolean>;
  stop(reason: string): Promise<void>;
}

export function createVoiceCommands(options: VoiceOptions): VoiceCommands {
  const sessions = new Map<string, Session>();
  const log = options.logger.child({ adapter: 'discord-voice' });

  async function listen(interaction: ChatInputCommandInteraction, bot: VoicePort): Promise<void> {
    const guild = interaction.guild;
    if (!guild) {
      await interaction.reply({
        content: 'Voice listening works only in a server.',
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    if (sessions.has(guild.id)) {
      await interaction.reply({
        content: 'I am already listening in this server; `/emotion stop` ends it.',
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    const voiceChannel = guild.voiceStates.cache.get(interaction.user.id)?.channel;
    if (!voiceChannel) {
      await interaction.reply({
        content: 'Join a voice channel first, then ask me to listen.',
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    const { DISCORD_LISTEN_DEFAULT_S, DISCORD_LISTEN_MAX_S } = options.config;
    const seconds = Math.min(
      interaction.options.getInteger('seconds') ?? DISCORD_LISTEN_DEFAULT_S,
      DISCORD_LISTEN_MAX_S,
    );
    await interaction.reply(
      `🎙️ Listening in <#${voiceChannel.id}> for ${seconds} s to hear which emotions are in each speaker's voice. ` +
        'Only the results are kept, never the audio. Members who opted out (`/emotion optout`) are not recorded. ' +
        '`/emotion stop` ends it early.',
    );
    const optedOut = new Map<string, boolean>();
    await Promise.all(
      [...voiceChannel.members.keys()].map(async (id) =>
        optedOut.set(id, await options.settings.isOptedOut(PLATFORM, id)),
      ),
    );
    const collector = new SpeakerCollector({
      // Someone not yet checked counts as opted out until the store answers.
      isOptedOut: (id) => optedOut.get(id) ?? true,
      maxSecondsPerSpeaker: seconds + 5,
    });
    const connection = (options.connect ?? discordVoiceConnector)({ channelId: voiceChannel.id, guild });
    const textChannelId = interaction.channelId;
    let timer: NodeJS.Timeout | undefined;
    let unsubscribe: () => void = () => undefined;
    let stopped = false;
    const onVoiceState = (_old: VoiceState, now: VoiceState) => {
      if (now.guild.id !== guild.id) return;
      const humans = guild.voiceStates.cache.filter(
        (s) => s.channelId === voiceChannel.id && !s.member?.user.bot && s.id !== bot.botUserId(),
      );
      if (humans.size === 0) void session.stop('the channel emptied');
    };
    const session: Session = {
      guildId: guild.id,
      voiceChannelId: voiceChannel.id,
      textChannelId,
      connection,
      collector,
      optedOut,
      async stop(reason: string) {
        if (stopped) return;
        stopped = true;
        clearTimeout(timer);
        unsubscribe();
        sessions.delete(guild.id);
        connection.destroy();
        log.info({ guild: guild.id, reason }, 'stopped listening');
        const pcm = await collector.finish();
        if (pcm.size === 0) {
          await bot.postText(
            textChannelId,
            `Stopped listening (${reason}). Nobody who allows analysis spoke.`,
          );
          return;
        }
        try {
          const results = await bot.run((signal) =>
            analyzeSpeakers(
              options.analyzer,
              pcm,
              (userId) => ({
                platform: PLATFORM,
                workspaceId: guild.id,
                channelId: textChannelId,
                userId,
                sourceId: voiceChannel.id,
                sourceName: 'voice channel',
              }),
              { signal },
            ),
          );
          await bot.postText(textChannelId, `Stopped listening (${reason}). One summary per speaker:`);
          for (const [userId, result] of results) {
            const name = guild.members.cache.get(userId)?.displayName ?? 'a speaker';
            if (result.status === 'ok')
              await bot.postResult(textChannelId, result, `Voice of ${name}`, `<@${userId}>`);
            else await bot.postText(textChannelId, `<@${userId}>: ${bot.failureText(result.error)}`);
          }
        } catch (error) {
          const text =
            error instanceof ShuttingDownError
              ? 'I am restarting and could not analyse this conversation.'
              : 'I could not analyse this conversation.';
          await bot.postText(textChannelId, text);
        }
      },
    };
    sessions.set(guild.id, session);
    timer = setTimeout(() => void session.stop('time is up'), seconds * 1000);
    unsubscribe = bot.onVoiceState(onVoiceState);
    try {
      await connection.ready(options.joinTimeoutMs ?? 20_000);
    } catch {
      stopped = true;
      clearTimeout(timer);
      unsubscribe();
      sessions.delete(guild.id);
      connection.destroy();
      await interaction.followUp({
        content: "I couldn't join the voice channel (no connection). Please try again.",
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    connection.receiver.speaking.on('start', (userId) => {
      if (!optedOut.has(userId)) {
        // A newcomer: ask the store; until it answers their packets are dropped.
        optedOut.set(userId, true);
        void options.settings.isOptedOut(PLATFORM, userId).then((out) => optedOut.set(userId, out));
      }
      if (!collector.wants(userId) || connection.receiver.subscriptions.has(userId)) return;
      const stream = connection.receiver.subscribe(userId, { end: { behavior: EndBehaviorType.Manual } });
      stream.on('data', (packet: Buffer) => collector.push(userId, packet));
      stream.on('error', (e) => log.warn({ err: String(e) }, 'receive stream error'));
    });
  }

  async function stop(interaction: ChatInputCommandInteraction): Promise<void> {
    const session = interaction.guildId ? sessions.get(interaction.guildId) : undefined;
    if (!session) {
      await interaction.reply({
        content: 'I am not listening anywhere in this server.',
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    await interaction.reply('Stopping — summaries follow.');
    await session.stop('stopped with /emotion stop');
  }

  return {
    listen,
    stop,
    async shutdown() {
      await Promise.all([...sessions.values()].map((s) => s.stop('the bot is restarting')));
    },
  };
}
