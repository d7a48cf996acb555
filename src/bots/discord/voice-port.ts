import type { ChatInputCommandInteraction, VoiceState } from 'discord.js';
import type { AnnamalaiError } from '../../core/errors.ts';
import type { OkResult } from '../shared/text.ts';
import type { Work } from '../shared/work-queue.ts';

/**
 * What a voice-listening session may ask of the bot, and nothing more: run analyses on the shared work
 * queue, post text and results to a channel, follow voice-state changes. The session never holds the bot.
 */
export interface VoicePort {
  /** Runs on the shared work queue (rejects with ShuttingDownError or QueueFullError). */
  run<T>(work: Work<T>): Promise<T>;
  postText(channelId: string, content: string): Promise<void>;
  /** A result posted to a channel with its chart, `mention` as the message text. */
  postResult(channelId: string, result: OkResult, what: string, mention: string): Promise<void>;
  /** The user's words for a failed analysis (shared/replies.ts). */
  failureText(error: AnnamalaiError): string;
  /** Subscribes to voice-state changes; returns the unsubscribe. */
  onVoiceState(listener: (old: VoiceState, now: VoiceState) => void): () => void;
  botUserId(): string | undefined;
}

/** `/emotion listen` and `/emotion stop` (src/bots/discord/voice.ts). */
export interface VoiceCommands {
  listen(interaction: ChatInputCommandInteraction, port: VoicePort): Promise<void>;
  stop(interaction: ChatInputCommandInteraction): Promise<void>;
  shutdown(): Promise<void>;
}
