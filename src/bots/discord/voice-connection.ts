import type { Readable } from 'node:stream';
import {
  type EndBehaviorType,
  entersState,
  joinVoiceChannel,
  type VoiceConnection,
  VoiceConnectionStatus,
} from '@discordjs/voice';
import type { Guild } from 'discord.js';

/** What a listening session needs of a voice connection: @discordjs/voice's, or a test double. */
export interface ListeningConnection {
  readonly receiver: {
    readonly speaking: { on(event: 'start', listener: (userId: string) => void): unknown };
    readonly subscriptions: { has(userId: string): boolean };
    subscribe(userId: string, options: { end: { behavior: EndBehaviorType.Manual } }): Readable;
  };
  /** Resolves when the connection can receive; rejects after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void>;
  destroy(): void;
}

export type VoiceConnector = (params: {
  readonly channelId: string;
  readonly guild: Guild;
}) => ListeningConnection;

/** The real connector: @discordjs/voice 0.19 (DAVE via @snazzah/davey), not deafened, muted. */
export const discordVoiceConnector: VoiceConnector = ({ channelId, guild }) => {
  const connection: VoiceConnection = joinVoiceChannel({
    channelId,
    guildId: guild.id,
    adapterCreator: guild.voiceAdapterCreator,
    selfDeaf: false,
    selfMute: true,
  });
  return {
    receiver: connection.receiver,
    async ready(timeoutMs) {
      await entersState(connection, VoiceConnectionStatus.Ready, timeoutMs);
    },
    destroy() {
      if (connection.state.status !== VoiceConnectionStatus.Destroyed) connection.destroy();
    },
  };
};
