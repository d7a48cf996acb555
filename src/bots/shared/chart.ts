import { createCanvas } from '@napi-rs/canvas';
import type { SegmentResult } from '../../core/records.ts';
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

export async function renderTimelineChart(
  segments: readonly SegmentResult[],
  options: ChartOptions,
): Promise<Buffer> {
  const width = options.width ?? 900;
  const height = options.height ?? 340;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  const pad = { left: 48, right: 130, top: options.title ? 34 : 14, bottom: 34 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const end = Math.max(segments.at(-1)?.endS ?? 1, 1);
  const x = (t: number) => pad.left + (t / end) * plotW;
  const y = (p: number) => pad.top + (1 - p) * plotH;

  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.font = '13px sans-serif';
  if (options.title) {
    ctx.fillStyle = '#222222';
    ctx.font = 'bold 15px sans-serif';
    ctx.fillText(options.title.slice(0, 90), pad.left, 22);
    ctx.font = '13px sans-serif';
  }

  // Silence shaded.
  ctx.fillStyle = 'rgba(120,120,120,0.18)';
  for (const s of segments)
    if (s.kind === 'silence') ctx.fillRect(x(s.startS), pad.top, x(s.endS) - x(s.startS), plotH);

  // Grid and axes.
  ctx.strokeStyle = '#e0e0e0';
  ctx.fillStyle = '#555555';
  ctx.lineWidth = 1;
  for (const p of [0, 0.25, 0.5, 0.75, 1]) {
    ctx.beginPath();
    ctx.moveTo(pad.left, y(p));
    ctx.lineTo(pad.left + plotW, y(p));
    ctx.stroke();
    ctx.fillText(`${Math.round(p * 100)}%`, 6, y(p) + 4);
  }
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
    // Legend.
    const ly = pad.top + 8 + li * 20;
    ctx.fillRect(width - pad.right + 14, ly - 8, 14, 10);
    ctx.fillStyle = '#333333';
    ctx.fillText(label, width - pad.right + 34, ly + 2);
  });
  if (segments.some((s) => s.kind === 'silence')) {
    const ly = pad.top + 8 + options.labels.length * 20;
    ctx.fillStyle = 'rgba(120,120,120,0.35)';
    ctx.fillRect(width - pad.right + 14, ly - 8, 14, 10);
    ctx.fillStyle = '#333333';
    ctx.fillText('silence', width - pad.right + 34, ly + 2);
  }
  return canvas.encode('png');
}

function niceStep(raw: number): number {
  for (const step of [5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600]) if (step >= raw) return step;
  return 3600;
}
