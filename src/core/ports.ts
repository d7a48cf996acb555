import type { PcmAudio } from './audio.ts';
import type { BaselineRule, BaselineStats, Normaliser, VoiceBaselineSpec } from './baseline.ts';
import type { AnalysisRecord, StoredAnalysis } from './records.ts';

/** Bytes of one recording as an adapter received them (already size-bounded by the download). */
export interface AudioInput {
  readonly bytes: Uint8Array;
  /** File name as the user gave it, used only in messages and for format hints. */
  readonly name?: string;
  /** Content type the platform declared; a hint only, the bytes decide. */
  readonly contentType?: string;
}

export interface DecodeLimits {
  readonly maxBytes: number;
  readonly maxDurationSeconds: number;
  readonly timeoutMs: number;
}

export interface DecodeOptions {
  readonly limits: DecodeLimits;
  readonly signal?: AbortSignal;
}

/** Port: turns any supported recording into 16 kHz mono PCM or throws an AnnamalaiError with an audio.* / decoder.* code. */
export interface AudioDecoder {
  decode(input: AudioInput, options: DecodeOptions): Promise<PcmAudio>;
}

export interface ModelInfo {
  readonly id: string;
  readonly version: string;
  readonly name: string;
  /** All labels in the model's output order. */
  readonly labels: readonly string[];
  /** Labels the model saw examples of; the others always get probability 0. */
  readonly trainedLabels: readonly string[];
  /** True for the test fixture: never shown to users as a real model. */
  readonly fixture: boolean;
  /** Where inference runs, and why that device was chosen. */
  readonly device: { readonly kind: 'cpu' | 'cuda'; readonly reason: string };
}

/** Port: probabilities per 5-s segment (rows in `labels` order, summing to 1 over trained labels). */
export interface EmotionClassifier {
  readonly info: ModelInfo;
  /** Every segment is exactly SEGMENT_SAMPLES long. */
  classify(segments: readonly Float32Array[], signal?: AbortSignal): Promise<Float32Array[]>;
  /** Present only when the model carries a voice-baseline head (manifest voice_baseline). */
  readonly voiceBaseline?: VoiceBaselineModel | VoiceBaselineElsewhere;
  close(): Promise<void>;
}

/** One segment as the voice-baseline path sees it. */
export interface SpeakerRow {
  /** The main head's probabilities (labels order). */
  readonly probabilities: Float32Array;
  /** The main graph's embedding of the segment. */
  readonly embedding: Float32Array;
  /** The baseline head's probabilities on the normalised embedding; only when a normaliser was given. */
  readonly baseline?: Float32Array;
}

/** The model's baseline head: one pass gives each segment's main probabilities, embedding and (given a normaliser) the baseline head's. */
export interface VoiceBaselineModel {
  readonly runs: 'here';
  readonly spec: VoiceBaselineSpec;
  classify(
    segments: readonly Float32Array[],
    normaliser: Normaliser | undefined,
    signal?: AbortSignal,
  ): Promise<SpeakerRow[]>;
}

/**
 * The baseline head of a model that runs in `annamalai worker` processes (a gateway with QUEUE_URL): the
 * workers use and update baselines for what they analyse; this process knows only the rule, to tell a person
 * where theirs stands. Audio it holds as PCM (Discord voice channels), sent to a worker as bare segments, is
 * judged without a baseline.
 */
export interface VoiceBaselineElsewhere {
  readonly runs: 'elsewhere';
  readonly spec: BaselineRule;
}

export interface TimeRange {
  readonly from: Date;
  readonly to: Date;
}

/** Port: where results live. Never receives audio. */
export interface AnalysisStore {
  save(record: AnalysisRecord): Promise<StoredAnalysis>;
  get(id: string): Promise<StoredAnalysis | undefined>;
  /** The analysis stored for an accepted job (AnalysisContext.jobId), if any: at most one per job. */
  byJob(jobId: string): Promise<StoredAnalysis | undefined>;
  userHistory(platform: string, userId: string, limit: number): Promise<StoredAnalysis[]>;
  channelAnalyses(platform: string, channelId: string, range: TimeRange): Promise<StoredAnalysis[]>;
  /** Deletes every analysis of one user (and their voice baselines: forget); returns how many analyses. */
  deleteUser(platform: string, userId: string): Promise<number>;
  /** Deletes analyses created before `before`; returns how many were deleted. */
  purgeOlderThan(before: Date): Promise<number>;
  /**
   * Retention: deletes one platform's analyses created before their workspace's cutoff in `cutoffs`, and
   * all its other analyses (other workspaces, DMs without one) created before `defaultBefore`.
   */
  purgeByWorkspace(
    platform: string,
    cutoffs: ReadonlyMap<string, Date>,
    defaultBefore: Date,
  ): Promise<number>;
  close(): Promise<void>;
}

/** Per-workspace bot settings (a Discord guild, a Slack workspace). */
export interface WorkspaceSettings {
  /** Channels where voice messages are analysed without being asked. */
  readonly autoAnalysisChannels: readonly string[];
  readonly digestChannelId: string | null;
  /** Results older than this are deleted; null keeps them until the user forgets them. */
  readonly retentionDays: number | null;
}

export interface WorkspaceSettingsPatch {
  readonly addAutoAnalysisChannel?: string;
  readonly removeAutoAnalysisChannel?: string;
  readonly digestChannelId?: string | null;
  readonly retentionDays?: number | null;
}

/** Port: bot settings and opt-outs. Never receives audio. */
export interface SettingsStore {
  workspace(platform: string, workspaceId: string): Promise<WorkspaceSettings>;
  updateWorkspace(
    platform: string,
    workspaceId: string,
    patch: WorkspaceSettingsPatch,
  ): Promise<WorkspaceSettings>;
  isAutoAnalysisChannel(platform: string, workspaceId: string, channelId: string): Promise<boolean>;
  isOptedOut(platform: string, userId: string): Promise<boolean>;
  /** Returns whether anything changed. */
  setOptedOut(platform: string, userId: string, optedOut: boolean): Promise<boolean>;
  close(): Promise<void>;
}

// ---- Voice baseline (issue 21) ------------------------------------------------------------------------

/** Whose baseline, under which model: a new model id or version starts a new baseline. */
export interface BaselineKey {
  readonly platform: string;
  /** '' where there is none (a direct message, the CLI). */
  readonly workspaceId: string;
  readonly userId: string;
  readonly modelId: string;
  readonly modelVersion: string;
}

/**
 * Port: per-user Welford statistics of recording embeddings (a few hundred numbers, never audio). A user who
 * opted out never gets one (add refuses, and opting out deletes theirs); forget (AnalysisStore.deleteUser)
 * deletes them.
 */
export interface BaselineStore {
  /** The statistics under this exact model, or undefined. */
  stats(key: BaselineKey): Promise<BaselineStats | undefined>;
  /**
   * Adds one recording embedding atomically (read, Welford update, write) and drops the user's baselines
   * under other models (invalidated by the model change). Undefined, and nothing kept, when the user opted out.
   */
  add(key: BaselineKey, embedding: readonly number[], now: Date): Promise<BaselineStats | undefined>;
  /** Deletes the user's baselines in one workspace, under every model; returns whether one existed. */
  reset(platform: string, workspaceId: string, userId: string): Promise<boolean>;
}

// ---- Mood digest (issue 12) ---------------------------------------------------------------------------

/** Port: the time. The scheduler never reads Date.now() itself, so tests drive it with a fake clock. */
export interface Clock {
  now(): Date;
  /**
   * Calls `task` at every fire of a five-field node-cron expression in an IANA zone, until `signal`
   * aborts. Executions of one registration never overlap.
   */
  cron(expression: string, timeZone: string, task: () => Promise<void>, signal: AbortSignal): void;
}

/** The digest of one channel (the channel whose recordings it summarises). */
export interface DigestConfig {
  readonly platform: string;
  readonly workspaceId: string;
  readonly channelId: string;
  /** Where it is posted (often the channel itself). */
  readonly targetChannelId: string;
  readonly enabled: boolean;
  /** Canonical schedule text: "daily 09:00", "weekly mon 09:00" or a cron expression. */
  readonly schedule: string;
  readonly timeZone: string;
  /** Post one short line for a period without recordings (else nothing). */
  readonly emptyLine: boolean;
  /** Fires at or before this (the last change of schedule, zone or on/off) are never posted. */
  readonly activeSince: Date;
}

export interface DigestConfigPatch {
  readonly targetChannelId?: string;
  readonly enabled?: boolean;
  readonly schedule?: string;
  readonly timeZone?: string;
  readonly emptyLine?: boolean;
}

export interface DigestKey {
  readonly platform: string;
  readonly workspaceId: string;
  readonly channelId: string;
  /** Start of the reported period, ms since the epoch: one digest per channel and period. */
  readonly periodStart: number;
}

export type DigestRunStatus = 'posted' | 'empty' | 'failed';

export interface DigestRun extends DigestKey {
  readonly periodEnd: number;
  readonly status: DigestRunStatus;
  readonly attempts: number;
  readonly claimedBy: string;
  readonly messageId: string | null;
  readonly nextAttemptAt: number | null;
  readonly error: string | null;
}

export type DigestOutcome =
  | { readonly status: 'posted'; readonly messageId: string | null }
  | { readonly status: 'empty' }
  | { readonly status: 'failed'; readonly error: string; readonly nextAttemptAt: Date | null };

/** Port: digest configuration and the record of digests claimed and posted. Never receives audio. */
export interface DigestStore {
  config(platform: string, workspaceId: string, channelId: string): Promise<DigestConfig | undefined>;
  workspaceConfigs(platform: string, workspaceId: string): Promise<DigestConfig[]>;
  enabledConfigs(platform: string): Promise<DigestConfig[]>;
  /** Creates (with `defaults`) or changes a channel's digest; `now` becomes activeSince when it matters. */
  updateConfig(
    key: { platform: string; workspaceId: string; channelId: string },
    patch: DigestConfigPatch,
    defaults: Omit<DigestConfig, 'platform' | 'workspaceId' | 'channelId' | 'activeSince'>,
    now: Date,
  ): Promise<DigestConfig>;
  /**
   * Atomically claims a digest (BEGIN IMMEDIATE; unique per channel and period), recording it as posted
   * in the same transaction. A failed one may be claimed again once its next attempt is due. False when
   * another process, or an earlier run, has it.
   */
  claim(key: DigestKey, periodEnd: number, claimant: string, now: Date): Promise<boolean>;
  /** What became of a claimed digest. */
  finish(key: DigestKey, outcome: DigestOutcome): Promise<void>;
  run(key: DigestKey): Promise<DigestRun | undefined>;
  runs(platform: string, workspaceId: string, channelId: string): Promise<DigestRun[]>;
  /** Claims one run of a maintenance job (e.g. the daily purge) across processes. */
  claimJob(job: string, runKey: string, claimant: string, now: Date): Promise<boolean>;
  /** Workspaces of a platform with an explicit retention, in days. */
  retentions(platform: string): Promise<{ workspaceId: string; retentionDays: number }[]>;
  close(): Promise<void>;
}

// ---- Durable work and delivery (issue 17) -------------------------------------------------------------

/** One piece of accepted work, as recorded before the user was told it was accepted. */
export interface JobRecord {
  readonly id: string;
  readonly platform: string;
  readonly userId: string;
  /** Adapter-owned JSON: enough to find (or post) the waiting reply after a restart. The core never reads it. */
  readonly reply: string;
  /** Set once the result was stored: a restarted process answers from it instead of asking to resend. */
  readonly analysisId: string | null;
  /**
   * Set once the recording was handed to a durable queue (QUEUE_URL): until then a worker may still store
   * its result, which a restarted gateway delivers instead of the restart message. Null: the work lived
   * only in the process that accepted it.
   */
  readonly queuedUntil: Date | null;
  readonly createdAt: Date;
}

/**
 * Port: accepted work, opened before the user sees "Listening…" and closed once answered, so a process
 * killed mid-analysis can answer every waiting user when it starts again (and never answer twice). A journal
 * belongs to one gateway, its owner (GATEWAY_ID): it opens jobs in the owner's name and lists only the
 * owner's unfinished ones, so gateways sharing a database never answer each other's work.
 */
export interface JobJournal {
  /** Records accepted work; returns its id. */
  open(job: {
    readonly platform: string;
    readonly userId: string;
    readonly reply: string;
    readonly createdAt: Date;
  }): Promise<string>;
  /** Where the waiting reply now is (it may be posted after the job was opened, or replaced). */
  setReply(id: string, reply: string): Promise<void>;
  /** The result of this job is stored under `analysisId`. */
  setAnalysis(id: string, analysisId: string): Promise<void>;
  /** The recording is in the durable queue: a worker may store its result until `until`. */
  queued(id: string, until: Date): Promise<void>;
  /** Answered (result, error or refusal): never answered again. Closing an unknown or closed id is a no-op. */
  close(id: string): Promise<void>;
  /** This owner's jobs of a platform still open, oldest first: what a restarted process must answer. */
  unfinished(platform: string): Promise<JobRecord[]>;
}

/** Port: platform event deliveries already handled, kept across restarts until they expire. */
export interface DeliveryLedger {
  /**
   * True the first time (platform, eventId) is seen and records it until `expiresAt`; false for a
   * redelivery of an event already recorded. Atomic across processes sharing the store.
   */
  firstDelivery(platform: string, eventId: string, expiresAt: Date): Promise<boolean>;
  /** Forgets deliveries that expired before `now`; returns how many. */
  purgeExpired(now: Date): Promise<number>;
}

/** Whether results can still be stored: 'lost' when the database vanished, was replaced or became read-only. */
export type StorageHealth =
  | { readonly state: 'ok' }
  | { readonly state: 'lost'; readonly detail: string; readonly since: Date };

/** Port: watches the storage under every store. Adapters refuse new work while it is not 'ok'. */
export interface StorageMonitor {
  health(): StorageHealth;
  /** Called once each time health changes (e.g. to tell admins); returns an unsubscribe function. */
  onChange(listener: (health: StorageHealth) => void): () => void;
}
