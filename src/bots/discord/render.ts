import type { APIEmbed } from 'discord.js';
import type { AnalysisResult } from '../../core/analyze.ts';
import type { AnnamalaiError } from '../../core/errors.ts';
import type { ModelInfo } from '../../core/ports.ts';
import type { StoredAnalysis } from '../../core/records.ts';
import { ESTIMATE_NOTE } from '../../core/summary.ts';
import { clip } from '../shared/clip.ts';
import { DownloadError } from '../shared/download.ts';
import { clock, fitSegmentLines, type OkResult, overallLine, pct } from '../shared/text.ts';

/** Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits). */
export const EMBED_LIMITS = {
  title: 256,
  description: 4096,
  fieldValue: 1024,
  footer: 2048,
  total: 6000,
} as const;
/** Room we give the segment lines: the rest of the 6000 is title, overall field, notes and footer. */
const SEGMENT_BUDGET = 3800;

const COLOUR = { green: 0x43a047, orange: 0xfb8c00, red: 0xe53935, grey: 0x9e9e9e } as const;

export const CHART_NAME = 'timeline.png';

/** One embed for one analysed recording, within every embed limit whatever the recording's length. */
export function resultEmbed(result: OkResult, model: ModelInfo, title: string, withChart: boolean): APIEmbed {
  const { summary } = result;
  const lines = fitSegmentLines(result.segments, SEGMENT_BUDGET);
  const dominant = summary.dominant?.confidence ?? 0;
  const colour = !summary.dominant
    ? COLOUR.grey
    : dominant >= 0.8
      ? COLOUR.green
      : dominant >= 0.6
        ? COLOUR.orange
        : COLOUR.red;
  const notes = summary.notes.map((n) => `• ${n}`).join('\n');
  const embed: APIEmbed = {
    title: clip(title, EMBED_LIMITS.title),
    description: clip(lines.join('\n'), EMBED_LIMITS.description),
    color: colour,
    fields: [
      { name: 'Overall', value: clip(overallLine(summary), EMBED_LIMITS.fieldValue) },
      ...(notes ? [{ name: 'Notes', value: clip(notes, EMBED_LIMITS.fieldValue) }] : []),
    ],
    footer: {
      text: clip(
        `${ESTIMATE_NOTE} Model: ${model.name} ${model.version}${model.fixture ? ' (test fixture)' : ''}.`,
        EMBED_LIMITS.footer,
      ),
    },
    ...(withChart ? { image: { url: `attachment://${CHART_NAME}` } } : {}),
  };
  return embed;
}

export function embedLength(embed: APIEmbed): number {
  return (
    (embed.title?.length ?? 0) +
    (embed.description?.length ?? 0) +
    (embed.footer?.text.length ?? 0) +
    (embed.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0)
  );
}

export function resultTitle(result: OkResult, what: string): string {
  return `${what} · ${clock(result.durationS)} · ${result.summary.speechSegments} speech segment${result.summary.speechSegments === 1 ? '' : 's'}`;
}

/** The kind, specific words for a failure; `limits` fill in numbers the core's generic text leaves out. */
export function errorText(
  error: AnnamalaiError | DownloadError,
  limits: { maxDurationS: number; maxMb: number },
): string {
  if (error instanceof DownloadError) {
    switch (error.kind) {
      case 'too_large':
        return `That file is too large to analyse: the limit is ${limits.maxMb} MB.`;
      case 'empty':
        return 'That file is empty (0 bytes): there is nothing to listen to.';
      case 'host_not_allowed':
        return 'I only download attachments from Discord itself.';
      case 'timeout':
        return "I couldn't download the attachment in time. Please try again.";
      default:
        return "I couldn't download the attachment. Please try again.";
    }
  }
  switch (error.code) {
    case 'audio.unsupported':
      return 'That file is not audio I can read (I understand Ogg/Opus, WebM, M4A/AAC, MP3, WAV and FLAC).';
    case 'audio.too_long': {
      const minutes = limits.maxDurationS / 60;
      return Number.isInteger(minutes)
        ? `Recordings over ${minutes} minute${minutes === 1 ? '' : 's'} are not analysed.`
        : `Recordings over ${limits.maxDurationS} seconds are not analysed.`;
    }
    case 'audio.too_large':
      return `That file is too large to analyse: the limit is ${limits.maxMb} MB.`;
    case 'audio.no_audio_track':
      return 'That video has no sound track, so there is no voice to listen to.';
    case 'audio.empty':
      return 'That file is empty (0 bytes): there is nothing to listen to.';
    default:
      return error.userMessage;
  }
}

export function historyText(rows: readonly StoredAnalysis[]): string {
  if (rows.length === 0) return 'You have no stored analyses.';
  const lines = rows.map((r) => {
    const when = `<t:${Math.floor(r.createdAt.getTime() / 1000)}:R>`;
    const name = r.sourceName ? ` ${clip(r.sourceName, 40)}` : '';
    if (r.outcome.status === 'failed') return `• ${when}${name} — failed: ${r.outcome.error.message}`;
    const speech = r.outcome.segments.filter((s) => s.kind === 'speech');
    const counts = new Map<string, number>();
    for (const s of speech)
      if (s.kind === 'speech' && s.top[0]) counts.set(s.top[0].label, (counts.get(s.top[0].label) ?? 0) + 1);
    const top = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
    return `• ${when}${name} — ${clock(r.durationS)}, mostly ${top ? `${top[0]} (${pct(top[1] / speech.length)} of segments)` : 'silence'}`;
  });
  return clip(lines.join('\n'), 1900);
}

export type { AnalysisResult };
