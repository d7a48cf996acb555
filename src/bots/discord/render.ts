import type { APIEmbed } from 'discord.js';
import type { AnalysisResult } from '../../core/analyze.ts';
import type { ModelInfo } from '../../core/ports.ts';
import type { StoredAnalysis } from '../../core/records.ts';
import { ESTIMATE_NOTE } from '../../core/summary.ts';
import { clip } from '../shared/clip.ts';
import { mainEmotion } from '../shared/history.ts';
import { clock, fitSegmentLines, type OkResult, overallLine, pct } from '../shared/text.ts';
import type { BaselineStatus } from '../shared/voice-baseline.ts';

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

export function historyText(rows: readonly StoredAnalysis[]): string {
  if (rows.length === 0) return 'You have no stored analyses.';
  const lines = rows.map((r) => {
    const when = `<t:${Math.floor(r.createdAt.getTime() / 1000)}:R>`;
    const name = r.sourceName ? ` ${clip(r.sourceName, 40)}` : '';
    if (r.outcome.status === 'failed') return `• ${when}${name} — failed: ${r.outcome.error.message}`;
    const main = mainEmotion(r);
    return `• ${when}${name} — ${clock(r.durationS)}, mostly ${main ? `${main.label} (${pct(main.share)} of segments)` : 'silence'}`;
  });
  return clip(lines.join('\n'), 1900);
}

export type { AnalysisResult };

/** `/emotion baseline`: where the person's voice baseline stands, and what it keeps. */
export function baselineText(status: BaselineStatus): string {
  const kept =
    'It keeps a few hundred to a thousand numbers derived from your recordings in this server (two per dimension of the model’s voice embedding; never audio), so that your recordings are judged against your own usual voice. `/emotion baseline reset` deletes it; `/emotion forget` deletes it with your results; opting out deletes it and stops it.';
  switch (status.kind) {
    case 'unavailable':
      return 'This bot’s model has no voice baseline: each recording is judged on its own.';
    case 'opted_out':
      return 'You opted out, so no voice baseline is kept for you.';
    case 'learning':
      return `**Your usual voice:** ${status.recordings} of the ${status.needed} recordings needed; until then, your recordings are judged on their own.\n${kept}`;
    case 'in_use':
      return `**Your usual voice:** in use, from ${status.recordings} recording${status.recordings === 1 ? '' : 's'}: your recordings are compared with it.\n${kept}`;
  }
}
