import type { ErrorCode } from './errors.ts';

export type Band = 'green' | 'orange' | 'red';

export interface LabelConfidence {
  readonly label: string;
  readonly confidence: number;
}

interface SegmentBase {
  readonly index: number;
  readonly startS: number;
  readonly endS: number;
}

/** A stretch judged silent: never sent to the model, never given an emotion. */
export interface SilentSegment extends SegmentBase {
  readonly kind: 'silence';
}

export interface SpeechSegment extends SegmentBase {
  readonly kind: 'speech';
  /** Every label of the model, trained or not. */
  readonly probabilities: Readonly<Record<string, number>>;
  readonly top: readonly LabelConfidence[];
  readonly band: Band;
}

export type SegmentResult = SilentSegment | SpeechSegment;

/** Who asked and where: platform-neutral. The CLI uses platform 'cli'. */
export interface AnalysisContext {
  readonly platform: string;
  readonly workspaceId?: string;
  readonly channelId?: string;
  readonly userId?: string;
  readonly sourceId?: string;
  readonly sourceName?: string;
  /**
   * The accepted job this analysis answers (a bot's job journal id): stored at most once per job, so a
   * worker that retries a job whose result it had already stored replaces that row instead of adding one.
   */
  readonly jobId?: string;
}

export type AnalysisOutcome =
  | { readonly status: 'ok'; readonly segments: readonly SegmentResult[] }
  | { readonly status: 'failed'; readonly error: { readonly code: ErrorCode; readonly message: string } };

export type AnalysisRecord = AnalysisContext & {
  readonly durationS: number;
  readonly model: { readonly id: string; readonly version: string };
  readonly createdAt: Date;
  readonly outcome: AnalysisOutcome;
};

export type StoredAnalysis = AnalysisRecord & { readonly id: string };
