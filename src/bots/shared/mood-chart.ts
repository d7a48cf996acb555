import { chartFrame, colourOf, legendRow } from './chart.ts';

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
  const { canvas, ctx, frame } = chartFrame({
    title: options.title,
    width,
    height,
    bottom: 40,
    font: '12px sans-serif',
  });
  const { pad, plotW, plotH } = frame;
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
    legendRow(ctx, frame, width, li, colourOf(label, li), label);
  });
  return canvas.encode('png');
}
