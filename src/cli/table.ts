import type { AnalysisResult } from '../core/analyze.ts';
import type { ModelInfo } from '../core/ports.ts';
import type { Band } from '../core/records.ts';
import { ESTIMATE_NOTE } from '../core/summary.ts';

const BAND_COLOUR: Record<Band, string> = { green: '\x1b[32m', orange: '\x1b[33m', red: '\x1b[31m' };
const RESET = '\x1b[0m';

export function formatTime(seconds: number): string {
  const whole = Math.round(seconds * 10) / 10;
  const minutes = Math.floor(whole / 60);
  const rest = whole - minutes * 60;
  return `${minutes}:${rest.toFixed(1).padStart(4, '0')}`;
}

export function percent(p: number): string {
  return `${Math.round(p * 100)}%`;
}

/** A readable per-file report for a terminal; colour only when `colour` is set (stdout is a TTY). */
export function formatTable(file: string, result: AnalysisResult, model: ModelInfo, colour: boolean): string {
  if (result.status === 'failed')
    return `${file}: error (${result.error.code}): ${result.error.userMessage}\n`;
  const paint = (band: Band, text: string) => (colour ? `${BAND_COLOUR[band]}${text}${RESET}` : text);
  const lines = [`${file}: ${result.durationS.toFixed(1)} s, model ${model.name} ${model.version}`];
  lines.push(`  ${'time'.padEnd(15)} ${'top emotions'.padEnd(44)} confidence`);
  for (const s of result.segments) {
    const time = `${formatTime(s.startS)}–${formatTime(s.endS)}`.padEnd(15);
    if (s.kind === 'silence') {
      lines.push(`  ${time} (silence)`);
      continue;
    }
    const top = s.top.map((t) => `${t.label} ${percent(t.confidence)}`.padEnd(14)).join(' ');
    lines.push(`  ${time} ${top.padEnd(44)} ${paint(s.band, s.band)}`);
  }
  const { summary } = result;
  if (summary.dominant) {
    const spread = summary.distribution.map((d) => `${d.label} ${percent(d.share)}`).join(', ');
    lines.push(`  overall: ${summary.dominant.label} (segments: ${spread})`);
  }
  for (const note of summary.notes) lines.push(`  note: ${note}`);
  lines.push(`  ${ESTIMATE_NOTE}`);
  return `${lines.join('\n')}\n`;
}
