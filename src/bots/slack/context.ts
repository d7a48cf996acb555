import type { webApi } from '@slack/bolt';
import type { AnalysisQueue } from '../../core/analysis-queue.ts';
import type { AnalyzerDeps } from '../../core/analyze.ts';
import type {
  AnalysisStore,
  Clock,
  DeliveryLedger,
  DigestStore,
  JobJournal,
  SettingsStore,
  StorageMonitor,
} from '../../core/ports.ts';
import type { Logger } from '../../log.ts';
import type { JobPipeline } from '../shared/job.ts';
import type { RateLimiter } from '../shared/rate-limit.ts';
import type { Dialect } from '../shared/replies.ts';
import type { ReplyRetryPolicy } from '../shared/reply-retry.ts';
import type { WorkQueue } from '../shared/work-queue.ts';
import type { SlackConfig } from './config.ts';
import type { SlackFile, SlackMessage } from './files.ts';

export interface SlackBotDeps {
  readonly config: SlackConfig;
  /** The core use case's dependencies; the store is required (bots always store, history needs it). */
  readonly analyzer: AnalyzerDeps & { readonly store: AnalysisStore };
  /** Where recordings are analysed; absent: in this process on `analyzer`. */
  readonly analysis?: AnalysisQueue;
  readonly settings: SettingsStore;
  readonly logger: Logger;
  /** The process-wide work queue shared with other adapters (its owner closes it); else the app's own. */
  readonly queue?: WorkQueue;
  readonly limiter?: RateLimiter;
  /** Extra Web API client options (tests shorten retry back-off). */
  readonly clientOptions?: Partial<webApi.WebClientOptions>;
  /** Socket Mode ping timeout, also the reconnect delay step (ms); the library's 5000 when absent. */
  readonly socketPingTimeoutMs?: number;
  /** Draw and upload the timeline chart (default true). */
  readonly chart?: boolean;
  /** The mood digest's settings and preview; absent: `/emotion digest …` says it is unavailable. */
  readonly digest?: { readonly store: DigestStore; readonly clock: Clock };
  /** Accepted work, recorded before "Analyzing…" so a restart can answer it; absent: not recorded. */
  readonly jobs?: JobJournal;
  /** Handled event ids kept across restarts; absent: remembered in memory only. */
  readonly deliveries?: DeliveryLedger;
  /** Storage health: new work is refused while the database is lost; absent: always accepted. */
  readonly storageHealth?: StorageMonitor;
  /** Final-reply retry timings (tests shorten them). */
  readonly replyRetry?: ReplyRetryPolicy;
}

/** Where an analysis was asked for and whom to tell about problems. */
export interface ClipRequest {
  readonly teamId: string;
  readonly channelId: string;
  readonly message: SlackMessage;
  readonly file: SlackFile;
  /** Who asked: the clip's author for auto-analysis, else the one who used the shortcut or command. */
  readonly requesterId: string;
  /** Auto-analysis stays quiet about opt-outs and restarts; explicit requests get an answer. */
  readonly explicit: boolean;
  /** A reply only the requester sees. */
  readonly notify: (text: string) => Promise<void>;
}

/** What every Slack handler works with: the app's parts, never the app itself. */
export interface SlackContext {
  readonly deps: SlackBotDeps;
  readonly client: webApi.WebClient;
  readonly log: Logger;
  readonly pipeline: JobPipeline;
  readonly limiter: RateLimiter;
  readonly closing: () => boolean;
  /** Starts one clip's job (tracked, so stop() and idle() wait for it). */
  readonly startClip: (req: ClipRequest) => Promise<void>;
}

/** Slack's words where its users were promised other wording than the shared replies (shared/replies.ts). */
export const SLACK_DIALECT: Dialect = {
  platformName: 'Slack',
  workspaceWord: 'workspace',
  overrides: {
    'audio.too_large': (f) => `That file is over ${f.maxMb} MB: larger recordings are not analysed.`,
    'audio.no_audio_track': () => 'That file has no audio track.',
    shutdown: () =>
      'I was restarted before I could analyse this clip. Please ask again in a minute (message shortcut *Analyze emotions*).',
  },
};
