import { durationSeconds, type PcmAudio } from './audio.ts';
import { type Normaliser, normaliserFor, recordingEmbedding } from './baseline.ts';
import { confidenceBand, topLabels } from './confidence.ts';
import { AnnamalaiError, isAnnamalaiError, toAnnamalaiError } from './errors.ts';
import type {
  AnalysisStore,
  AudioDecoder,
  AudioInput,
  BaselineKey,
  BaselineStore,
  DecodeLimits,
  EmotionClassifier,
  VoiceBaselineModel,
} from './ports.ts';
import type { AnalysisContext, AnalysisRecord, SegmentResult, StoredAnalysis } from './records.ts';
import { MIN_TAIL_SECONDS, segment, type Window } from './segments.ts';
import { type Summary, summarize } from './summary.ts';

/** Segments sent to the classifier per call: small enough to report progress and honour an abort quickly. */
const BATCH_SEGMENTS = 8;
const TOP_K = 3;

export interface AnalyzerDeps {
  readonly decoder: AudioDecoder;
  readonly classifier: EmotionClassifier;
  readonly limits: DecodeLimits;
  /** Optional: the CLI stores only with --db; bots always store. */
  readonly store?: AnalysisStore;
  /**
   * Optional: per-speaker voice baselines (issue 21), used and updated only when the model has a baseline
   * head and the context names a user.
   */
  readonly baselines?: BaselineStore;
  readonly now?: () => Date;
}

export type Progress =
  | { readonly stage: 'decoding' }
  | { readonly stage: 'classifying'; readonly done: number; readonly total: number };

export interface AnalyzeOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: Progress) => void;
}

/** Whether a finished analysis was saved: a result that could not be saved still reaches the user. */
export type SaveOutcome =
  | { readonly ok: true; readonly analysis: StoredAnalysis }
  | { readonly ok: false; readonly error: AnnamalaiError };

export type AnalysisResult =
  | {
      readonly status: 'ok';
      readonly durationS: number;
      readonly segments: readonly SegmentResult[];
      readonly summary: Summary;
      /** Absent without a store. */
      readonly saved?: SaveOutcome;
    }
  | { readonly status: 'failed'; readonly durationS: number; readonly error: AnnamalaiError };

/**
 * The one use case every adapter shares: bytes in, per-segment emotions and a summary out, stored when a
 * store is given. Never throws: failures come back as a coded error so adapters can answer the user.
 */
export async function analyzeRecording(
  deps: AnalyzerDeps,
  input: AudioInput,
  context: AnalysisContext,
  options: AnalyzeOptions = {},
): Promise<AnalysisResult> {
  let pcm: PcmAudio;
  try {
    options.onProgress?.({ stage: 'decoding' });
    pcm = await deps.decoder.decode(input, {
      limits: deps.limits,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (thrown) {
    return failed(deps, context, 0, thrown);
  }
  return analyzePcm(deps, pcm, context, options);
}

/** What analysing audio already decoded needs: everything but a decoder. */
export type PcmAnalyzerDeps = Omit<AnalyzerDeps, 'decoder'>;

/**
 * The same use case for audio an adapter already holds as 16 kHz mono PCM (Discord's voice receive): no
 * decoder in between, so no content type can ever declare an upload to be raw PCM. Never throws.
 */
export async function analyzePcm(
  deps: PcmAnalyzerDeps,
  pcm: PcmAudio,
  context: AnalysisContext,
  options: AnalyzeOptions = {},
): Promise<AnalysisResult> {
  const { classifier } = deps;
  let durationS = 0;
  try {
    options.signal?.throwIfAborted();
    if (pcm.samples.length === 0) throw new AnnamalaiError('audio.empty');
    durationS = durationSeconds(pcm);
    // A decoder stops at the limit; PCM handed in whole is checked here.
    if (durationS > deps.limits.maxDurationSeconds) throw new AnnamalaiError('audio.too_long');
    if (durationS < MIN_TAIL_SECONDS) throw new AnnamalaiError('audio.too_short');

    const { windows, droppedTailS } = segment(pcm.samples);
    const speech = windows.filter((w) => !w.silent);
    if (speech.length === 0) throw new AnnamalaiError('audio.silent');

    const speaker = await speakerBaseline(deps, context);
    const rows = await classifyInBatches(scorer(classifier, speaker), speech, options);
    const segments = windows.map((w): SegmentResult => {
      const base = { index: w.index, startS: w.startS, endS: w.endS };
      const row = rows.get(w.index)?.probabilities;
      if (!row) return { ...base, kind: 'silence' };
      const top = topLabels(classifier.info.labels, row, TOP_K);
      return {
        ...base,
        kind: 'speech',
        probabilities: Object.fromEntries(classifier.info.labels.map((label, i) => [label, row[i] ?? 0])),
        top,
        band: confidenceBand(top[0]?.confidence ?? 0),
      };
    });
    const baselineRecordings = speaker?.normaliser?.recordings;
    const summary = summarize({
      durationS,
      segments,
      droppedTailS,
      model: classifier.info,
      ...(baselineRecordings !== undefined && { baselineRecordings }),
    });
    const saved = await store(deps, context, durationS, { status: 'ok', segments });
    // After the analysis: a recording is never normalised with statistics that include itself.
    if (speaker) await addToBaseline(speaker, [...rows.values()], deps.now?.() ?? new Date());
    return { status: 'ok', durationS, segments, summary, ...(saved && { saved }) };
  } catch (thrown) {
    return failed(deps, context, durationS, thrown);
  }
}

async function failed(
  deps: PcmAnalyzerDeps,
  context: AnalysisContext,
  durationS: number,
  thrown: unknown,
): Promise<AnalysisResult> {
  const error = toAnnamalaiError(thrown, 'inference.failed');
  // A failure is stored too (without audio) so history and digests can say what went wrong.
  await store(deps, context, durationS, {
    status: 'failed',
    error: { code: error.code, message: error.userMessage },
  });
  return { status: 'failed', durationS, error };
}

/** One segment's scores: the probabilities shown, and the embedding the baseline learns from (speaker path). */
interface ScoredRow {
  readonly probabilities: Float32Array;
  readonly embedding?: Float32Array;
}
type Scorer = (segments: readonly Float32Array[], signal?: AbortSignal) => Promise<readonly ScoredRow[]>;

/** A speaker whose baseline this analysis uses (when reliable) and updates. */
interface Speaker {
  readonly model: VoiceBaselineModel;
  readonly store: BaselineStore;
  readonly key: BaselineKey;
  /** Undefined: the rule says the baseline is not reliable yet, so the main head's probabilities stand. */
  readonly normaliser: Normaliser | undefined;
}

/**
 * The speaker of this analysis, when there is a baseline to use or build: a model with a baseline head, a
 * baseline store, and a user. Statistics that cannot be read leave the analysis as it would be without one.
 */
async function speakerBaseline(
  deps: PcmAnalyzerDeps,
  context: AnalysisContext,
): Promise<Speaker | undefined> {
  const model = deps.classifier.voiceBaseline;
  // A head that runs in the workers: they use the baseline for what they analyse, not for segments sent here.
  if (model?.runs !== 'here' || !deps.baselines || !context.userId) return undefined;
  const { id, version } = deps.classifier.info;
  const key: BaselineKey = {
    platform: context.platform,
    workspaceId: context.workspaceId ?? '',
    userId: context.userId,
    modelId: id,
    modelVersion: version,
  };
  const stats = await deps.baselines.stats(key).catch(() => undefined);
  return { model, store: deps.baselines, key, normaliser: normaliserFor(model.spec, stats) };
}

function scorer(classifier: EmotionClassifier, speaker: Speaker | undefined): Scorer {
  if (!speaker) {
    return async (segments, signal) =>
      (await classifier.classify(segments, signal)).map((probabilities) => ({ probabilities }));
  }
  const { model, normaliser } = speaker;
  return async (segments, signal) =>
    (await model.classify(segments, normaliser, signal)).map((row, i) => {
      if (normaliser && !row.baseline)
        throw new AnnamalaiError('inference.failed', { detail: `no baseline head output for row ${i}` });
      return { probabilities: row.baseline ?? row.probabilities, embedding: row.embedding };
    });
}

/** Adds the recording's embedding to the speaker's statistics; a failure costs the update, never the answer. */
async function addToBaseline(speaker: Speaker, rows: readonly ScoredRow[], now: Date): Promise<void> {
  const embeddings = rows.flatMap((r) => (r.embedding ? [r.embedding] : []));
  if (embeddings.length === 0) return;
  await speaker.store.add(speaker.key, recordingEmbedding(embeddings), now).catch(() => undefined);
}

async function classifyInBatches(
  score: Scorer,
  windows: readonly Window[],
  options: AnalyzeOptions,
): Promise<Map<number, ScoredRow>> {
  const rows = new Map<number, ScoredRow>();
  for (let i = 0; i < windows.length; i += BATCH_SEGMENTS) {
    options.signal?.throwIfAborted();
    const batch = windows.slice(i, i + BATCH_SEGMENTS);
    const out = await score(
      batch.map((w) => w.samples),
      options.signal,
    );
    batch.forEach((w, j) => {
      const row = out[j];
      if (!row)
        throw new AnnamalaiError('inference.failed', { detail: `no output row for segment ${w.index}` });
      rows.set(w.index, row);
    });
    options.onProgress?.({
      stage: 'classifying',
      done: Math.min(i + BATCH_SEGMENTS, windows.length),
      total: windows.length,
    });
  }
  return rows;
}

async function store(
  deps: PcmAnalyzerDeps,
  context: AnalysisContext,
  durationS: number,
  outcome: AnalysisRecord['outcome'],
): Promise<SaveOutcome | undefined> {
  if (!deps.store) return undefined;
  const { id, version } = deps.classifier.info;
  try {
    const analysis = await deps.store.save({
      ...context,
      durationS,
      model: { id, version },
      createdAt: deps.now?.() ?? new Date(),
      outcome,
    });
    return { ok: true, analysis };
  } catch (cause) {
    // Never thrown: the analysis is done and is answered anyway (the store logs why it failed).
    const error =
      isAnnamalaiError(cause) && cause.code.startsWith('storage.')
        ? cause
        : new AnnamalaiError('storage.failed', { cause });
    return { ok: false, error };
  }
}
