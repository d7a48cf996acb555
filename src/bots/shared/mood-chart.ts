import { createCanvas } from '@napi-rs/canvas';
import { colourOf } from './chart.ts';

/**
 * The digest's chart: the emotion mix per hour (daily digest) or per day (weekly), one stacked bar per
 * bucket of the share of speech segments by their top emotion; empty buckets stay empty. Same renderer
 * and colours as the timeline chart (chart.ts).
 */

export interface MoodBucket {
  readonly label: string;
  /** Speech segments per top emotion. */
  readonly counts: Readonly<Record<string, number>>;
}

export async function renderMoodChart(
  buckets: readonly MoodBucket[],
  options: {
    readonly labels: readonly string[];
    readonly title?: string;
    readonly width?: number;
    readonly height?: number;
  },
): Promise<Buffer> {
  const width = options.width ?? 900;
  const height = options.height ?? 360;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  const pad = { left: 48, right: 130, top: options.title ? 34 : 14, bottom: 40 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  if (options.title) {
    ctx.fillStyle = '#222222';
    ctx.font = 'bold 15px sans-serif';
    ctx.fillText(options.title.slice(0, 90), pad.left, 22);
  }
  ctx.font = '12px sans-serif';
  ctx.strokeStyle = '#e0e0e0';
  ctx.fillStyle = '#555555';
  for (const p of [0, 0.25, 0.5, 0.75, 1]) {
    const y = pad.top + (1 - p) * plotH;
    ctx.beginPath();
    ctx.moveTo(pad.left, y);
    ctx.lineTo(pad.left + plotW, y);
    ctx.stroke();
    ctx.fillText(`${Math.round(p * 100)}%`, 6, y + 4);
  }
  const n = Math.max(buckets.length, 1);
  const slot = plotW / n;
  const barW = Math.max(2, slot * 0.8);
  const labelEvery = Math.ceil(n / 14);
  const order = [...options.labels];
  for (const b of buckets) for (const l of Object.keys(b.counts)) if (!order.includes(l)) order.push(l);
  buckets.forEach((b, i) => {
    const total = Object.values(b.counts).reduce((s, c) => s + c, 0);
    const x = pad.left + i * slot + (slot - barW) / 2;
    let y = pad.top + plotH;
    if (total > 0)
      order.forEach((label, li) => {
        const h = ((b.counts[label] ?? 0) / total) * plotH;
        if (h <= 0) return;
        ctx.fillStyle = colourOf(label, li);
        ctx.fillRect(x, y - h, barW, h);
        y -= h;
      });
    if (i % labelEvery === 0) {
      ctx.fillStyle = '#555555';
      ctx.fillText(b.label, pad.left + i * slot, height - 16);
    }
  });
  order.forEach((label, li) => {
    const ly = pad.top + 8 + li * 20;
    ctx.fillStyle = colourOf(label, li);
    ctx.fillRect(width - pad.right + 14, ly - 8, 14, 10);
    ctx.fillStyle = '#333333';
    ctx.fillText(label, width - pad.right + 34, ly + 2);
  });
  return canvas.encode('png');
}
