import type { types } from '@slack/bolt';
import type { ModelInfo } from '../../core/ports.ts';
import type { SegmentResult, StoredAnalysis } from '../../core/records.ts';
import { ESTIMATE_NOTE, type Summary } from '../../core/summary.ts';
import { clip } from '../shared/clip.ts';
import { mainEmotion } from '../shared/history.ts';
import { NOT_SAVED_LINE } from '../shared/not-saved.ts';
import { BAND_EMOJI, fitSegmentLines, overallLine, pct, SILENCE_EMOJI } from '../shared/text.ts';
import type { BaselineStatus } from '../shared/voice-baseline.ts';

type KnownBlock = types.KnownBlock;

/**
 * Block Kit for results, history, help and the App Home. Slack's limits (docs.slack.dev, Block Kit
 * reference): 50 blocks per message (100 in a Home view), 3000 characters of section text, 150 of header
 * text, 10 context elements; `text` (the notification fallback) is kept under 3000. Long recordings are
 * summarised (runs of one emotion merged) and, past the budget, cut with a pointer to the chart.
 */
export const LIMITS = {
  messageBlocks: 50,
  homeBlocks: 100,
  sectionText: 3000,
  headerText: 150,
  contextElements: 10,
  contextText: 2000,
  fallbackText: 3000,
} as const;

/** Characters of segment lines per message: readable, and far inside 50 blocks × 3000. */
const SEGMENT_BUDGET = 12_000;
const SECTION_FILL = 2_900;

export interface RenderedMessage {
  readonly text: string;
  readonly blocks: KnownBlock[];
}

/** Slack mrkdwn control characters (&, <, >) escaped: user-supplied names can't inject mentions or links. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cut on grapheme clusters (src/bots/shared/clip.ts): an emoji is never split in half. */
export const cut = clip;

export function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: cut(text, LIMITS.sectionText) } };
}

export function context(texts: readonly string[]): KnownBlock {
  return {
    type: 'context',
    elements: texts
      .slice(0, LIMITS.contextElements)
      .map((t) => ({ type: 'mrkdwn' as const, text: cut(t, LIMITS.contextText) })),
  };
}

/** Packs lines into as few ≤ SECTION_FILL sections as they need. */
export function packLines(lines: readonly string[]): string[] {
  const out: string[] = [];
  let current = '';
  for (const raw of lines) {
    const line = cut(raw, SECTION_FILL);
    if (current && current.length + 1 + line.length > SECTION_FILL) {
      out.push(current);
      current = '';
    }
    current = current ? `${current}\n${line}` : line;
  }
  if (current) out.push(current);
  return out;
}

/** The model's name and version (a fixture model is flagged by the summary's notes). */
export function modelLine(model: Pick<ModelInfo, 'name' | 'version'>): string {
  return `Model: ${escapeMrkdwn(model.name)} ${escapeMrkdwn(model.version)}`;
}

export function overallText(summary: Summary): string {
  return overallLine(summary, (t) => `*${t}*`);
}

export const LEGEND = `${BAND_EMOJI.green} ≥ 80 % · ${BAND_EMOJI.orange} 60–80 % · ${BAND_EMOJI.red} < 60 % confidence · ${SILENCE_EMOJI} silence`;

export interface ResultView {
  readonly durationS: number;
  readonly segments: readonly SegmentResult[];
  readonly summary: Summary;
  readonly model: Pick<ModelInfo, 'name' | 'version'>;
  readonly sourceName?: string | undefined;
  readonly speakerId?: string | undefined;
  /** The result could not be stored: say so (shared/not-saved.ts). */
  readonly notSaved?: boolean | undefined;
}

/** The analysis as a message: header, overall line, per-segment lines, legend, model and the estimate note. */
export function resultMessage(view: ResultView): RenderedMessage {
  const { summary } = view;
  const name = view.sourceName ? `“${view.sourceName}”` : 'this recording';
  const header = cut(`Emotions heard in ${name}`, LIMITS.headerText);
  const lines = fitSegmentLines(view.segments, SEGMENT_BUDGET);
  const who = view.speakerId ? ` · <@${view.speakerId}>` : '';
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: header, emoji: true } },
    section(
      `${overallText(summary)}\n_${view.durationS.toFixed(1)} s · ${summary.speechSegments} speech segment${summary.speechSegments === 1 ? '' : 's'}${summary.silentSegments ? ` · ${summary.silentSegments} silent` : ''}${who}_`,
    ),
    ...(view.notSaved ? [context([NOT_SAVED_LINE])] : []),
    { type: 'divider' },
    ...packLines(lines).map(section),
    context([LEGEND]),
    context([modelLine(view.model), ...summary.notes.map(escapeMrkdwn), `_${ESTIMATE_NOTE}_`]),
  ];
  const fallback = summary.dominant
    ? `Mostly ${summary.dominant.label} (${pct(summary.dominant.confidence)}) in ${view.sourceName ?? 'this recording'}. ${ESTIMATE_NOTE}`
    : `Only silence in ${view.sourceName ?? 'this recording'}.`;
  return { text: cut(fallback, LIMITS.fallbackText), blocks: blocks.slice(0, LIMITS.messageBlocks) };
}

/** A kind, specific error in place of the "Analyzing…" message. */
export function errorMessage(text: string): RenderedMessage {
  return { text: cut(text, LIMITS.fallbackText), blocks: [section(`:warning: ${text}`)] };
}

export function analyzingMessage(sourceName: string | undefined, detail?: string): RenderedMessage {
  const name = sourceName ? ` “${escapeMrkdwn(sourceName)}”` : '';
  const text = `:headphones: Analyzing${name}…${detail ? ` ${detail}` : ''}`;
  return { text: text.replace(/:headphones: /, ''), blocks: [section(text)] };
}

export function historyLine(a: StoredAnalysis): string {
  const when = `<!date^${Math.floor(a.createdAt.getTime() / 1000)}^{date_short_pretty} {time}|${a.createdAt.toISOString()}>`;
  const name = a.sourceName ? `“${escapeMrkdwn(cut(a.sourceName, 60))}”` : 'a recording';
  const where = a.channelId ? ` in <#${a.channelId}>` : '';
  if (a.outcome.status === 'failed')
    return `${when} · ${name}${where}: not analysed (${escapeMrkdwn(a.outcome.error.message)})`;
  const d = mainEmotion(a);
  return `${when} · ${name}${where}, ${a.durationS.toFixed(0)} s: ${d ? `mostly *${d.label}* (${pct(d.share)} of segments)` : 'only silence'}`;
}

export function historyMessage(analyses: readonly StoredAnalysis[]): RenderedMessage {
  if (analyses.length === 0)
    return {
      text: 'No analyses of your voice are stored.',
      blocks: [section('No analyses of your voice are stored.')],
    };
  const lines = analyses.map(historyLine);
  return {
    text: `Your last ${analyses.length} analyses`,
    blocks: [
      section(`*Your last ${analyses.length} analyses*`),
      ...packLines(lines).map(section),
      context([`_${ESTIMATE_NOTE}_`]),
    ],
  };
}

/** What the voice baseline keeps, why, and how to see and delete it (help, Home, /emotion baseline). */
export const BASELINE_PRIVACY =
  'Voice baseline: when the model supports it, I keep a few hundred to a thousand numbers per person and workspace (two per dimension of the model’s voice embedding), derived from your analysed clips (never audio), so that your clips can be judged against your own usual voice. `/emotion baseline` shows it, `/emotion baseline reset` and `/emotion forget` delete it, and opting out deletes it and stops it.';

export const HELP_TEXT = [
  '*Annamalai* hears emotions in speech, 5 seconds at a time.',
  '• Send me an audio clip in a DM, or post one in a channel where auto-analysis is on: I reply in the thread.',
  '• On any message with audio: *⋯ → Analyze emotions*.',
  '• `/emotion`: analyse the most recent audio in this channel.',
  '• `/emotion history`: your last analyses (only you see them).',
  '• `/emotion optout` / `/emotion optin`: stop or allow analysis of your voice.',
  '• `/emotion forget`: delete every stored result of your voice (and your voice baseline).',
  '• `/emotion baseline`: your usual voice, the baseline your clips are compared with once it has enough of them; `/emotion baseline reset` deletes it.',
  '• `/emotion settings`: auto-analysis channels, digest channel, retention (workspace admins and owners).',
  '• `/emotion settings digest on|off|to #channel|schedule daily|weekly|<cron>|timezone <IANA zone>|empty line|nothing`: this channel’s mood digest (admins and owners).',
  '• `/emotion digest now`: a preview of this channel’s mood digest (only you see it).',
  `_${ESTIMATE_NOTE} No audio is ever stored, only results._`,
  `_${BASELINE_PRIVACY}_`,
].join('\n');

/** `/emotion baseline` and the App Home: where the person's voice baseline stands. */
export function baselineText(status: BaselineStatus): string {
  switch (status.kind) {
    case 'unavailable':
      return 'This app’s model has no voice baseline: each clip is judged on its own.';
    case 'opted_out':
      return 'You opted out, so no voice baseline is kept for you.';
    case 'learning':
      return `*Your usual voice:* ${status.recordings} of the ${status.needed} clips needed; until then, your clips are judged on their own.`;
    case 'in_use':
      return `*Your usual voice:* in use, from ${status.recordings} clip${status.recordings === 1 ? '' : 's'}: your clips are compared with it.`;
  }
}

export function forgetConfirmMessage(): RenderedMessage {
  return {
    text: 'Delete every stored result of your voice?',
    blocks: [
      section(
        'Delete *every* stored analysis of your voice in this workspace, and your voice baseline? This cannot be undone.',
      ),
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            style: 'danger',
            action_id: 'forget_confirm',
            text: { type: 'plain_text', text: 'Delete my results' },
          },
          { type: 'button', action_id: 'forget_cancel', text: { type: 'plain_text', text: 'Cancel' } },
        ],
      },
    ],
  };
}
