import { type AnnamalaiError, ERROR_CODES, type ErrorCode } from '../../core/errors.ts';
import type { DecodeLimits } from '../../core/ports.ts';
import { DownloadError } from './download.ts';
import { humanWait } from './rate-limit.ts';
import { STORAGE_UNAVAILABLE_TEXT } from './refusals.ts';

/**
 * The one mapping from the codes a job can end in (or be refused with) to the words a user reads. Every
 * adapter (Discord, Slack, the web page, the CLI) renders a `Reply`; none writes its own error sentences.
 * Where a platform's wording was already promised to its users (and pinned by its tests), the platform's
 * `Dialect` names the few codes it words differently; everything else reads the same everywhere.
 */

/** Why a request was refused before any work started (admission), or why a job ended without a result. */
export type ReplyCode =
  | ErrorCode
  | 'stopping'
  | 'shutdown'
  | 'internal'
  | 'opted_out.self'
  | 'opted_out.other'
  | 'rate.user'
  | 'rate.workspace'
  | 'file.unreadable'
  | 'download.host_not_allowed'
  | 'download.timeout'
  | 'download.failed';

/** A coded answer: the code for logs and tests, the text for the user. */
export interface Reply {
  readonly code: ReplyCode;
  readonly text: string;
}

/** What a reply needs to say numbers and names: the analyser's limits and the platform's words. */
export interface ReplyContext {
  readonly limits: DecodeLimits;
  readonly dialect: Dialect;
}

/** A platform's names for things and the codes it words its own way. */
export interface Dialect {
  /** "Discord", "Slack": where files are downloaded from. */
  readonly platformName: string;
  /** "server", "workspace": what a rate limit per community is called. */
  readonly workspaceWord: string;
  readonly overrides?: Partial<Record<ReplyCode, (facts: ReplyFacts) => string>>;
}

/** The numbers and names a sentence may use. */
export interface ReplyFacts {
  readonly maxMb: number;
  readonly maxDurationS: number;
  readonly retryAfterMs: number;
  /** Who opted out, as the platform mentions them; absent: "That person". */
  readonly subject: string | undefined;
  readonly platformName: string;
  readonly workspaceWord: string;
  readonly fallback: string;
}

/** The size limit in MB, two significant digits: the one way every reply states it. */
export function maxMb(limits: Pick<DecodeLimits, 'maxBytes'>): number {
  return Number((limits.maxBytes / (1024 * 1024)).toPrecision(2));
}

function tooLong(maxDurationS: number): string {
  const minutes = maxDurationS / 60;
  return Number.isInteger(minutes)
    ? `Recordings over ${minutes} minute${minutes === 1 ? '' : 's'} are not analysed.`
    : `Recordings over ${maxDurationS} seconds are not analysed.`;
}

const TEXTS: Partial<Record<ReplyCode, (f: ReplyFacts) => string>> = {
  'audio.unsupported': () =>
    'That file is not audio I can read (I understand Ogg/Opus, WebM, M4A/AAC, MP3, WAV and FLAC).',
  'audio.too_long': (f) => tooLong(f.maxDurationS),
  'audio.too_large': (f) => `That file is too large to analyse: the limit is ${f.maxMb} MB.`,
  'audio.no_audio_track': () => 'That video has no sound track, so there is no voice to listen to.',
  'audio.empty': () => 'That file is empty (0 bytes): there is nothing to listen to.',
  // The core's own words: one message for "busy" everywhere.
  'inference.overloaded': () => ERROR_CODES['inference.overloaded'],
  'storage.unavailable': () => STORAGE_UNAVAILABLE_TEXT,
  stopping: () => 'I am restarting right now: please send it again in a minute.',
  shutdown: () =>
    'I am restarting and had to stop before finishing this analysis. Please send it again in a minute.',
  internal: () => 'Something went wrong on my side; please try again.',
  'opted_out.self': () =>
    'You opted out, so I do not analyse your voice. `/emotion optin` turns analysis back on.',
  'opted_out.other': (f) =>
    `${f.subject ?? 'That person'} has opted out of emotion analysis, so I will not analyse their voice.`,
  'rate.user': (f) =>
    `You have asked for a lot of analyses just now, faster than I can listen: please try again ${humanWait(f.retryAfterMs)}.`,
  'rate.workspace': (f) =>
    `This ${f.workspaceWord} has asked for a lot of analyses in the last minute: please try again ${humanWait(f.retryAfterMs)}.`,
  'file.unreadable': (f) => `I couldn’t read that file’s details from ${f.platformName}. Please try again.`,
  'download.host_not_allowed': (f) =>
    `I couldn’t download the file: I only download files from ${f.platformName} itself.`,
  'download.timeout': () => 'I couldn’t download the file in time. Please try again.',
  'download.failed': () => 'I couldn’t download the file. Please try again.',
};

/** The user's words for a code. */
export function replyText(
  code: ReplyCode,
  context: ReplyContext,
  extra: { readonly retryAfterMs?: number; readonly subject?: string; readonly fallback?: string } = {},
): string {
  const facts: ReplyFacts = {
    maxMb: maxMb(context.limits),
    maxDurationS: context.limits.maxDurationSeconds,
    retryAfterMs: extra.retryAfterMs ?? 0,
    subject: extra.subject,
    platformName: context.dialect.platformName,
    workspaceWord: context.dialect.workspaceWord,
    fallback: extra.fallback ?? (code in ERROR_CODES ? ERROR_CODES[code as ErrorCode] : code),
  };
  const words = context.dialect.overrides?.[code] ?? TEXTS[code];
  return words ? words(facts) : facts.fallback;
}

export function reply(
  code: ReplyCode,
  context: ReplyContext,
  extra?: Parameters<typeof replyText>[2],
): Reply {
  return { code, text: replyText(code, context, extra) };
}

/** A failed analysis's reply: the code's words, else the error's own user message. */
export function analysisReply(error: AnnamalaiError, context: ReplyContext): Reply {
  const code: ReplyCode = error.code === 'aborted' ? 'shutdown' : error.code;
  return { code, text: replyText(code, context, { fallback: error.userMessage }) };
}

/** A failed download's reply: too large and empty read as the audio codes they are. */
export function downloadReply(error: unknown, context: ReplyContext): Reply {
  const kind = error instanceof DownloadError ? error.kind : 'network';
  const code: ReplyCode =
    kind === 'too_large'
      ? 'audio.too_large'
      : kind === 'empty'
        ? 'audio.empty'
        : kind === 'aborted'
          ? 'shutdown'
          : kind === 'host_not_allowed'
            ? 'download.host_not_allowed'
            : kind === 'timeout'
              ? 'download.timeout'
              : 'download.failed';
  return reply(code, context);
}
