import { runJob, type Surface } from '../shared/job.ts';
import { type AudioSource, attachmentDownload } from './attachments.ts';
import { type DiscordContext, discordChecks } from './context.ts';
import { PLATFORM } from './messages.ts';
import { journalPlatform } from './shards.ts';

/** What differs between analysing a voice message and analysing for a command: who, where, which reply. */
export interface AttachmentJob {
  readonly audio: AudioSource;
  readonly guildId: string | null;
  readonly channelId: string;
  /** Who asked: the journal's user. */
  readonly requesterId: string;
  /** Whose voice it is: their opt-out applies and the analysis is theirs. */
  readonly speakerId: string;
  readonly sourceId: string;
  /** Refused before download when over the limit; absent, not checked. */
  readonly declaredSize?: number;
  /** Where the answer goes, journalled so that a restart can answer it. */
  readonly reply: object;
}

/** One Discord attachment through admission, the bounded download and analysis, answered on `surface`. */
export function analyzeAttachment(ctx: DiscordContext, job: AttachmentJob, surface: Surface): Promise<void> {
  const { deps } = ctx;
  return runJob(
    ctx.pipeline,
    {
      checks: discordChecks(ctx, {
        speakerId: job.speakerId,
        requesterId: job.requesterId,
        guildId: job.guildId,
        ...(job.declaredSize === undefined ? {} : { declaredSize: job.declaredSize }),
      }),
      journal: { platform: journalPlatform(deps.config.sharding), userId: job.requesterId, reply: job.reply },
      audio: job.audio,
      download: attachmentDownload(job.audio, {
        maxBytes: deps.analyzer.limits.maxBytes,
        hosts: deps.config.DISCORD_CDN_HOSTS,
        timeoutMs: deps.config.bot.downloadTimeoutMs,
      }),
      context: {
        platform: PLATFORM,
        ...(job.guildId ? { workspaceId: job.guildId } : {}),
        channelId: job.channelId,
        userId: job.speakerId,
        sourceId: job.sourceId,
        sourceName: job.audio.name,
      },
    },
    surface,
  );
}
