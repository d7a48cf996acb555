/**
 * The voice baseline (issue 21): per-user running statistics of the recording embedding, and the
 * speaker-normalised input of the model's baseline head. Pure arithmetic, the one place these rules live;
 * the formulas are the model/runtime contract's (training/ computes the same ones when it trains the head).
 */

/** How the model's baseline head wants its input normalised (manifest voice_baseline.normalise). */
export type BaselineNormalise = 'mean' | 'mean_and_scale';

/** What the model declares about its baseline head: the numbers the normalisation needs. */
export interface VoiceBaselineSpec {
  /** Width of the main graph's embedding. */
  readonly dims: number;
  readonly normalise: BaselineNormalise;
  /** lambda = n / (n + k): how fast a user's own statistics outweigh the global ones. */
  readonly shrinkageK: number;
  /** The baseline is used only from this many recordings on. */
  readonly minRecordings: number;
  readonly globalMean: readonly number[];
  readonly globalStd: readonly number[];
}

/**
 * The part of the spec that says whether a baseline is in use: what the manifest alone gives, so a process
 * that does not run the model (a gateway of workers) can still tell a person where their baseline stands.
 */
export type BaselineRule = Pick<VoiceBaselineSpec, 'dims' | 'minRecordings'>;

/** Welford running statistics of one user's recording embeddings (derived numbers only, never audio). */
export interface BaselineStats {
  readonly count: number;
  readonly mean: readonly number[];
  /** Sum of squared deviations from the mean, per dimension. */
  readonly m2: readonly number[];
}

/** Added to sigma^2 before the square root, as the contract says: a dimension that never varied stays finite. */
const SCALE_EPSILON = 1e-6;

/** The recording embedding: the mean of its voiced segments' embeddings. */
export function recordingEmbedding(segmentEmbeddings: readonly ArrayLike<number>[]): number[] {
  const [first] = segmentEmbeddings;
  if (!first) throw new RangeError('a recording embedding needs at least one segment');
  const sum = new Array<number>(first.length).fill(0);
  for (const e of segmentEmbeddings) {
    if (e.length !== sum.length) throw new RangeError('segment embeddings differ in width');
    for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] ?? 0) + (e[i] ?? 0);
  }
  return sum.map((s) => s / segmentEmbeddings.length);
}

/**
 * Welford's update: the statistics with one more recording. No statistics yet, or statistics of another
 * width (a model that changed without a new version), start over from this recording.
 */
export function addRecording(stats: BaselineStats | undefined, x: readonly number[]): BaselineStats {
  if (!x.every(Number.isFinite)) throw new RangeError('a recording embedding must be finite');
  if (!stats || stats.count < 1 || stats.mean.length !== x.length)
    return { count: 1, mean: [...x], m2: x.map(() => 0) };
  const count = stats.count + 1;
  const mean: number[] = [];
  const m2: number[] = [];
  x.forEach((v, i) => {
    const before = stats.mean[i] ?? 0;
    const delta = v - before;
    const after = before + delta / count;
    mean.push(after);
    m2.push((stats.m2[i] ?? 0) + delta * (v - after));
  });
  return { count, mean, m2 };
}

/** The unbiased per-dimension variance of the user's recordings: M2 / max(n - 1, 1). */
export function userVariance(stats: BaselineStats): number[] {
  const d = Math.max(stats.count - 1, 1);
  return stats.m2.map((v) => v / d);
}

/** The rule: a baseline is used only when the model has a head and the user has enough recordings. */
export function isReliable(spec: BaselineRule, stats: BaselineStats | undefined): stats is BaselineStats {
  return stats !== undefined && stats.count >= spec.minRecordings && stats.mean.length === spec.dims;
}

/** z = (e - centre) / scale per dimension, for every segment of one recording. */
export interface Normaliser {
  readonly centre: Float64Array;
  readonly scale: Float64Array;
  /** How many earlier recordings the centre (and scale) come from: what the reply says. */
  readonly recordings: number;
}

/**
 * The shrunk normaliser of one user, or undefined when the rule says the baseline is not reliable (then
 * nothing changes). lambda = n / (n + k); mu = lambda m + (1 - lambda) global_mean; the scale is global_std
 * ("mean") or sqrt(lambda var_u + (1 - lambda) global_std^2 + 1e-6) ("mean_and_scale").
 */
export function normaliserFor(
  spec: VoiceBaselineSpec,
  stats: BaselineStats | undefined,
): Normaliser | undefined {
  if (!isReliable(spec, stats)) return undefined;
  const n = stats.count;
  const lambda = n / (n + spec.shrinkageK);
  const variance = userVariance(stats);
  const centre = new Float64Array(spec.dims);
  const scale = new Float64Array(spec.dims);
  for (let i = 0; i < spec.dims; i++) {
    const g = spec.globalMean[i] ?? 0;
    const s = spec.globalStd[i] ?? 1;
    centre[i] = lambda * (stats.mean[i] ?? 0) + (1 - lambda) * g;
    scale[i] =
      spec.normalise === 'mean'
        ? s
        : Math.sqrt(lambda * (variance[i] ?? 0) + (1 - lambda) * s * s + SCALE_EPSILON);
  }
  return { centre, scale, recordings: n };
}

/** The baseline head's input for one segment embedding. */
export function normalise(
  embedding: ArrayLike<number>,
  normaliser: Pick<Normaliser, 'centre' | 'scale'>,
): Float32Array {
  const { centre, scale } = normaliser;
  if (embedding.length !== centre.length)
    throw new RangeError(`embedding has ${embedding.length} dimensions, the baseline ${centre.length}`);
  const z = new Float32Array(centre.length);
  for (let i = 0; i < z.length; i++) z[i] = ((embedding[i] ?? 0) - (centre[i] ?? 0)) / (scale[i] ?? 1);
  return z;
}

/** What a reply says when a baseline was used for a recording. */
export function baselineNote(recordings: number): string {
  return `Compared with your usual voice, ${recordings} recording${recordings === 1 ? '' : 's'}.`;
}
