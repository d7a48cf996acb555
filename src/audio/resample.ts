import { AnnamalaiError } from '../core/errors.ts';
import { type DecodeGuard, tooLongError } from './guard.ts';

/**
 * Band-limited resampling (windowed sinc, Kaiser window) for the in-process paths.
 * Cut-off at 0.45 × the lower of the two rates (7.2 kHz for 16 kHz output) with a
 * 16-zero-crossing kernel (Kaiser β 8.6, ≈ 80 dB stop band): no aliasing of 8–22 kHz content into the speech band.
 * The kernel is tabulated (512 points per zero crossing, linear interpolation) and positions are
 * computed with exact integer arithmetic, so long files do not drift.
 */

const ZERO_CROSSINGS = 16;
const TABLE_OVERSAMPLE = 512;
const KAISER_BETA = 8.6;
const CUTOFF = 0.9; // of the Nyquist frequency of the lower rate

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

/** Kernel value at distance `z` zero crossings, for 0 ≤ z ≤ ZERO_CROSSINGS. */
const KERNEL = (() => {
  const n = ZERO_CROSSINGS * TABLE_OVERSAMPLE + 2;
  const table = new Float64Array(n);
  const i0Beta = besselI0(KAISER_BETA);
  for (let i = 0; i < n; i++) {
    const z = i / TABLE_OVERSAMPLE;
    if (z >= ZERO_CROSSINGS) continue;
    const sinc = z === 0 ? 1 : Math.sin(Math.PI * z) / (Math.PI * z);
    const r = z / ZERO_CROSSINGS;
    table[i] = sinc * (besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / i0Beta);
  }
  return table;
})();

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

const CHUNK = 16_384;

/**
 * Work bounds, sized from the two rates before anything is allocated. Taps per output sample grow with the
 * down-sampling ratio: 64:1 (1.024 MHz → 16 kHz) is ~2 300 taps, far past any real file (the WAV reader stops
 * at 384 kHz, ~860 taps). The phase table holds at most 2^20 taps (8 MB); a rate pair whose exact table would be
 * larger (up to 16 000 phases for rates with a small common divisor) uses the nearest of fewer phases instead:
 * a position error of at most half a phase step, under 1/900 of an input sample.
 */
export const MAX_RATIO = 64;
const MAX_TABLE_TAPS = 1 << 20;

/** How the filter bank for one rate pair is laid out: decided before any allocation. */
export interface ResamplePlan {
  readonly up: number;
  readonly down: number;
  readonly scale: number;
  readonly halfWidth: number;
  /** Taps per phase. */
  readonly taps: number;
  /** Phases tabulated: `up` (exact) or fewer (nearest phase). */
  readonly phases: number;
}

export function planResample(fromRate: number, toRate: number): ResamplePlan {
  if (!Number.isInteger(fromRate) || !Number.isInteger(toRate) || fromRate <= 0 || toRate <= 0) {
    throw new RangeError(`bad sample rates ${fromRate} → ${toRate}`);
  }
  if (fromRate > toRate * MAX_RATIO || toRate > fromRate * MAX_RATIO) {
    throw new AnnamalaiError('audio.unsupported', {
      detail: `resampling ${fromRate} Hz → ${toRate} Hz exceeds the ${MAX_RATIO}:1 bound`,
    });
  }
  const g = gcd(fromRate, toRate);
  const up = toRate / g; // output step in units of 1/up input samples: position(n) = n * down / up
  const down = fromRate / g;
  // Filter scale: cut-off relative to the input rate (< 1 when downsampling).
  const scale = Math.min(1, toRate / fromRate) * CUTOFF;
  const halfWidth = ZERO_CROSSINGS / scale; // in input samples
  const taps = Math.floor(2 * halfWidth) + 2; // upper bound of lastTap - first + 1 over all phases
  const phases = Math.max(1, Math.min(up, Math.floor(MAX_TABLE_TAPS / taps)));
  return { up, down, scale, halfWidth, taps, phases };
}

/**
 * Resamples `input`. The output length is checked against the guard's sample budget before it is allocated, and
 * the filter bank is sized by `planResample`, so a header with an absurd rate fails fast instead of allocating.
 */
export async function resample(
  input: Float32Array,
  fromRate: number,
  toRate: number,
  guard?: DecodeGuard,
): Promise<Float32Array> {
  if (fromRate === toRate) return input;
  const { up, down, scale, halfWidth, phases } = planResample(fromRate, toRate);
  const outLength = Math.floor((input.length * up) / down);
  if (guard && outLength > guard.maxSamples) {
    throw tooLongError(guard.maxDurationSeconds, outLength / toRate);
  }
  const out = new Float32Array(outLength);
  const bank = phaseBank(phases, scale, halfWidth);
  const exact = phases === up;
  const last = input.length - 1;
  for (let start = 0; start < outLength; start += CHUNK) {
    const end = Math.min(outLength, start + CHUNK);
    for (let n = start; n < end; n++) {
      const num = n * down; // exact: position = num / up input samples
      let center = Math.floor(num / up);
      let index = num - center * up;
      if (!exact) {
        index = Math.round((index * phases) / up);
        if (index === phases) {
          center += 1;
          index = 0;
        }
      }
      const phase = bank[index];
      if (!phase) throw new RangeError('resampler phase out of range');
      const { first, taps } = phase;
      const from = center + first;
      let acc = 0;
      if (from >= 0 && from + taps.length - 1 <= last) {
        for (let j = 0; j < taps.length; j++) acc += (input[from + j] as number) * (taps[j] as number);
      } else {
        // Near the ends part of the kernel falls outside the input: those taps are skipped.
        for (let j = 0; j < taps.length; j++) {
          const k = from + j;
          if (k >= 0 && k <= last) acc += (input[k] as number) * (taps[j] as number);
        }
      }
      out[n] = acc * scale;
    }
    if (guard) await guard.breathe();
  }
  return out;
}

interface Phase {
  /** Offset of the first tap from the output's integer input position. */
  readonly first: number;
  readonly taps: Float64Array;
}

/**
 * One filter per fractional position p/count (polyphase): the kernel is evaluated once per phase instead of once
 * per output sample and tap, which makes the inner loop a plain dot product.
 */
function phaseBank(count: number, scale: number, halfWidth: number): Phase[] {
  const bank: Phase[] = [];
  for (let p = 0; p < count; p++) {
    const frac = p / count;
    const first = Math.ceil(frac - halfWidth);
    const lastTap = Math.floor(frac + halfWidth);
    const taps = new Float64Array(lastTap - first + 1);
    for (let j = 0; j < taps.length; j++) {
      const z = Math.abs(first + j - frac) * scale * TABLE_OVERSAMPLE;
      const i = Math.floor(z);
      const a = KERNEL[i] ?? 0;
      const b = KERNEL[i + 1] ?? 0;
      taps[j] = a + (b - a) * (z - i);
    }
    bank.push({ first, taps });
  }
  return bank;
}
