import { type Canvas, createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import type { SegmentResult } from '../../core/records.ts';
import { clip } from './clip.ts';
import { clock } from './text.ts';

/**
 * The PNG timeline chart shared by the Discord and Slack adapters and the digest: per-segment
 * probability of each emotion over time (one colour per emotion), silent segments shaded grey.
 * Rendered in-process with @napi-rs/canvas (prebuilt binaries from npm).
 */

export const EMOTION_COLOURS: Readonly<Record<string, string>> = {
  anger: '#e53935',
  bored: '#8d6e63',
  disgust: '#7cb342',
  fear: '#8e24aa',
  happy: '#fdd835',
  neutral: '#90a4ae',
  question: '#00acc1',
  sad: '#1e88e5',
  surprise: '#fb8c00',
};
const FALLBACK = ['#26a69a', '#d81b60', '#5e35b1', '#43a047', '#f4511e'];

export interface ChartOptions {
  /** Labels to draw, in legend order (usually the model's trained labels). */
  readonly labels: readonly string[];
  readonly title?: string;
  readonly width?: number;
  readonly height?: number;
}

export function colourOf(label: string, index: number): string {
  return EMOTION_COLOURS[label] ?? FALLBACK[index % FALLBACK.length] ?? '#000000';
}

/** Plot geometry shared by the charts: padding, plot size, and the y position of a share 0..1. */
export interface Frame {
  readonly pad: {
    readonly left: number;
    readonly right: number;
    readonly top: number;
    readonly bottom: number;
  };
  readonly plotW: number;
  readonly plotH: number;
  y(p: number): number;
}

/**
 * A white canvas with the title, a 0–100 % grid and the legend column on the right, in the look every
 * chart shares. `underlay` draws beneath the grid (the timeline's silence shading).
 */
export function chartFrame(
  options: {
    readonly title?: string | undefined;
    readonly width: number;
    readonly height: number;
    readonly bottom: number;
    readonly font: string;
  },
  underlay?: (ctx: SKRSContext2D, frame: Frame) => void,
): { canvas: Canvas; ctx: SKRSContext2D; frame: Frame } {
  const { width, height } = options;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  const pad = { left: 48, right: 130, top: options.title ? 34 : 14, bottom: options.bottom };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const frame: Frame = { pad, plotW, plotH, y: (p) => pad.top + (1 - p) * plotH };
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  if (options.title) {
    ctx.fillStyle = '#222222';
    ctx.font = 'bold 15px sans-serif';
    ctx.fillText(clip(options.title, 90), pad.left, 22);
  }
  ctx.font = options.font;
  underlay?.(ctx, frame);
  ctx.strokeStyle = '#e0e0e0';
  ctx.fillStyle = '#555555';
  ctx.lineWidth = 1;
  for (const p of [0, 0.25, 0.5, 0.75, 1]) {
    ctx.beginPath();
    ctx.moveTo(pad.left, frame.y(p));
    ctx.lineTo(pad.left + plotW, frame.y(p));
    ctx.stroke();
    ctx.fillText(`${Math.round(p * 100)}%`, 6, frame.y(p) + 4);
  }
  return { canvas, ctx, frame };
}

/** One legend row (a swatch and its text) in the right-hand column. */
export function legendRow(
  ctx: SKRSContext2D,
  frame: Frame,
  width: number,
  row: number,
  colour: string,
  text: string,
): void {
  const ly = frame.pad.top + 8 + row * 20;
  ctx.fillStyle = colour;
  ctx.fillRect(width - frame.pad.right + 14, ly - 8, 14, 10);
  ctx.fillStyle = '#333333';
  ctx.fillText(text, width - frame.pad.right + 34, ly + 2);
}

export async function renderTimelineChart(
  segments: readonly SegmentResult[],
  options: ChartOptions,
): Promise<Buffer> {
  const width = options.width ?? 900;
  const height = options.height ?? 340;
  const end = Math.max(segments.at(-1)?.endS ?? 1, 1);
  const { canvas, ctx, frame } = chartFrame(
    { title: options.title, width, height, bottom: 34, font: '13px sans-serif' },
    (c, f) => {
      c.fillStyle = 'rgba(120,120,120,0.18)';
      for (const s of segments)
        if (s.kind === 'silence')
          c.fillRect(
            f.pad.left + (s.startS / end) * f.plotW,
            f.pad.top,
            ((s.endS - s.startS) / end) * f.plotW,
            f.plotH,
          );
    },
  );
  const x = (t: number) => frame.pad.left + (t / end) * frame.plotW;
  const { y } = frame;
  const tickEvery = niceStep(end / 8);
  for (let t = 0; t <= end + 1e-6; t += tickEvery) ctx.fillText(clock(t), x(t) - 12, height - 12);

  // One line per emotion through segment midpoints; a gap across silence.
  options.labels.forEach((label, li) => {
    ctx.strokeStyle = colourOf(label, li);
    ctx.fillStyle = colourOf(label, li);
    ctx.lineWidth = 2.5;
    let drawing = false;
    ctx.beginPath();
    for (const s of segments) {
      if (s.kind === 'silence') {
        drawing = false;
        continue;
      }
      const px = x((s.startS + s.endS) / 2);
      const py = y(s.probabilities[label] ?? 0);
      if (drawing) ctx.lineTo(px, py);
      else ctx.moveTo(px, py);
      drawing = true;
    }
    ctx.stroke();
    for (const s of segments) {
      if (s.kind === 'silence' || segments.length > 120) continue;
      ctx.beginPath();
      ctx.arc(x((s.startS + s.endS) / 2), y(s.probabilities[label] ?? 0), 3, 0, Math.PI * 2);
      ctx.fill();
    }
    legendRow(ctx, frame, width, li, colourOf(label, li), label);
  });
  if (segments.some((s) => s.kind === 'silence')) {
    legendRow(ctx, frame, width, options.labels.length, 'rgba(120,120,120,0.35)', 'silence');
  }
  return canvas.encode('png');
}

function niceStep(raw: number): number {
  for (const step of [5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600]) if (step >= raw) return step;
  return 3600;
}
