import type { PcmAudio } from './audio.ts';
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
  close(): Promise<void>;
}

export interface TimeRange {
  readonly from: Date;
  readonly to: Date;
}

/** Port: where results live. Never receives audio. */
export interface AnalysisStore {
  save(record: AnalysisRecord): Promise<StoredAnalysis>;
  get(id: string): Promise<StoredAnalysis | undefined>;
  userHistory(platform: string, userId: string, limit: number): Promise<StoredAnalysis[]>;
  channelAnalyses(platform: string, channelId: string, range: TimeRange): Promise<StoredAnalysis[]>;
  /** Deletes every analysis of one user; returns how many were deleted. */
  deleteUser(platform: string, userId: string): Promise<number>;
  /** Deletes analyses created before `before`; returns how many were deleted. */
  purgeOlderThan(before: Date): Promise<number>;
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
