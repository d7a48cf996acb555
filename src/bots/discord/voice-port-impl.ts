import { Events } from 'discord.js';
import { analysisReply } from '../shared/replies.ts';
import type { DiscordContext } from './context.ts';
import { outcomePayload } from './payload.ts';
import type { VoicePort } from './voice-port.ts';

/** The narrow port a voice session gets (voice-port.ts), made of the bot's client and pipeline. */
export function voicePort(ctx: DiscordContext): VoicePort {
  const { client, pipeline } = ctx;
  return {
    run: (work) => pipeline.queue.push(work),
    postText: async (channelId, content) => {
      const channel = await client.channels.fetch(channelId);
      if (channel?.isSendable()) await channel.send({ content });
    },
    postResult: async (channelId, result, what, mention) => {
      const model = ctx.deps.analyzer.classifier.info;
      const payload = await outcomePayload({ kind: 'ok', result }, what, model);
      const channel = await client.channels.fetch(channelId);
      if (!channel?.isSendable()) throw new Error('channel not sendable');
      await channel.send({ ...payload, content: mention });
    },
    failureText: (error) => analysisReply(error, pipeline.replies).text,
    onVoiceState: (listener) => {
      client.on(Events.VoiceStateUpdate, listener);
      return () => client.off(Events.VoiceStateUpdate, listener);
    },
    botUserId: () => client.user?.id,
  };
}
