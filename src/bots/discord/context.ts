import type { ChatInputCommandInteraction, Client, ClientOptions, RepliableInteraction } from 'discord.js';
import { MessageFlags } from 'discord.js';
import type { AnalysisQueue } from '../../core/analysis-queue.ts';
import type { AnalyzerDeps } from '../../core/analyze.ts';
import type {
  AnalysisStore,
  Clock,
  DigestStore,
  JobJournal,
  SettingsStore,
  StorageMonitor,
} from '../../core/ports.ts';
import type { Logger } from '../../log.ts';
import {
  type Check,
  declaredSize,
  notOptedOut,
  notStopping,
  queueRoom,
  storageAvailable,
  withinRate,
} from '../shared/admission.ts';
import type { JobPipeline } from '../shared/job.ts';
import type { RateLimiter } from '../shared/rate-limit.ts';
import type { Dialect } from '../shared/replies.ts';
import type { ReplyRetryPolicy } from '../shared/reply-retry.ts';
import type { WorkQueue } from '../shared/work-queue.ts';
import type { DiscordConfig } from './config.ts';
import { PLATFORM } from './messages.ts';
import type { VoiceCommands } from './voice-port.ts';

export interface DiscordBotDeps {
  readonly config: DiscordConfig;
  /** The core use case's dependencies; its store is where results go. */
  readonly analyzer: AnalyzerDeps;
  /** Where recordings are analysed; absent: in this process on `analyzer`. */
  readonly analysis?: AnalysisQueue;
  readonly store: AnalysisStore;
  readonly settings: SettingsStore;
  readonly logger: Logger;
  /** Shared with the other adapters when they run in the same process (then its owner closes it). */
  readonly queue?: WorkQueue;
  readonly limiter?: RateLimiter;
  /** Extra discord.js client options (tests: REST retry timings). */
  readonly clientOptions?: Partial<ClientOptions>;
  /** Voice-channel listening (src/bots/discord/voice.ts); absent: /emotion listen says it is unavailable. */
  readonly voice?: VoiceCommands;
  /** The mood digest's settings and preview; absent: the digest options say it is unavailable. */
  readonly digest?: { readonly store: DigestStore; readonly clock: Clock };
  /** Accepted work, recorded before "Listening…" so a restart can answer it; absent: not recorded. */
  readonly jobs?: JobJournal;
  /** Storage health: new work is refused while the database is lost; absent: always accepted. */
  readonly storageHealth?: StorageMonitor;
  /** Final-reply retry timings (tests shorten them). */
  readonly replyRetry?: ReplyRetryPolicy;
}

/** What every Discord handler works with: the bot's parts, never the bot itself. */
export interface DiscordContext {
  readonly deps: DiscordBotDeps;
  readonly client: Client;
  readonly log: Logger;
  readonly pipeline: JobPipeline;
  readonly limiter: RateLimiter;
  readonly stopping: () => boolean;
}

/** Discord's words where they differ from the shared replies (shared/replies.ts). */
export const DISCORD_DIALECT: Dialect = { platformName: 'Discord', workspaceWord: 'server' };

/** The shared admission, in the shared order, for one Discord request. */
export function discordChecks(
  ctx: DiscordContext,
  who: {
    readonly speakerId: string;
    readonly requesterId: string;
    readonly guildId: string | null;
    readonly declaredSize?: number;
    readonly subject?: string;
  },
): Check[] {
  const replies = ctx.pipeline.replies;
  return [
    notStopping(ctx.stopping, replies),
    storageAvailable(ctx.deps.storageHealth, replies),
    notOptedOut(ctx.deps.settings, { platform: PLATFORM, ...who }, replies),
    declaredSize(() => who.declaredSize, replies),
    withinRate(
      ctx.limiter,
      {
        user: { scope: 'user', key: who.requesterId },
        workspace: who.guildId ? { scope: 'guild', key: who.guildId } : undefined,
      },
      replies,
    ),
    queueRoom(ctx.pipeline.queue, replies),
  ];
}

/** An answer only the caller sees (a follow-up once the interaction was answered). */
export async function ephemeral(interaction: RepliableInteraction, content: string): Promise<void> {
  if (interaction.deferred || interaction.replied)
    await interaction.followUp({ content, flags: MessageFlags.Ephemeral });
  else await interaction.reply({ content, flags: MessageFlags.Ephemeral });
}

export type SlashCommand = ChatInputCommandInteraction;
