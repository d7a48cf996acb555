/** The parts of a Slack file object the app reads (events, conversations.history, files.info). */
export interface SlackFile {
  readonly id: string;
  readonly name?: string;
  readonly title?: string;
  readonly mimetype?: string;
  readonly filetype?: string;
  /** `slack_audio` for clips recorded in Slack (labelled audio/* or video/*). */
  readonly subtype?: string;
  readonly size?: number;
  readonly url_private?: string;
  readonly url_private_download?: string;
  readonly user?: string;
  /** `check_file_info` when the event carries only a stub and files.info has the rest. */
  readonly file_access?: string;
  readonly mode?: string;
}

/** The parts of a message the app reads. */
export interface SlackMessage {
  readonly type?: string;
  readonly subtype?: string;
  readonly ts: string;
  readonly thread_ts?: string;
  readonly user?: string;
  readonly bot_id?: string;
  readonly channel?: string;
  readonly channel_type?: string;
  readonly files?: readonly SlackFile[];
}

const AUDIO_FILETYPES = new Set([
  'm4a',
  'mp3',
  'wav',
  'flac',
  'ogg',
  'oga',
  'opus',
  'webm',
  'mp4',
  'aac',
  'mov',
  'weba',
]);
/** Video containers whose audio track the decoder reads (Slack's clips come as video/* too). */
const VIDEO_TYPES = new Set(['video/mp4', 'video/webm', 'video/quicktime']);

/**
 * Is this file worth trying? Audio of any type, Slack's clips (audio/mp4, audio/webm, and video/mp4 or
 * video/webm with subtype slack_audio), real videos (their audio track is analysed), or a known audio
 * extension when Slack could not tell the type. The decoder has the last word on the bytes.
 */
export function isAudioFile(file: SlackFile): boolean {
  if (file.mode === 'tombstone' || file.mode === 'external') return false;
  const mime = (file.mimetype ?? '').toLowerCase();
  if (mime.startsWith('audio/')) return true;
  if (file.subtype === 'slack_audio') return true;
  if (VIDEO_TYPES.has(mime)) return true;
  return AUDIO_FILETYPES.has((file.filetype ?? '').toLowerCase());
}

export function audioFiles(message: Pick<SlackMessage, 'files'>): SlackFile[] {
  return (message.files ?? []).filter(isAudioFile);
}

export function fileName(file: SlackFile): string {
  return file.name || file.title || `${file.id}.${file.filetype ?? 'audio'}`;
}

/** A channel mention in slash command text: `<#C123|name>` (escaped) or a bare `C123`. */
export function parseChannel(token: string | undefined): string | undefined {
  if (!token) return undefined;
  const escaped = /^<#([CGD][A-Z0-9]+)(\|[^>]*)?>$/.exec(token);
  if (escaped) return escaped[1];
  return /^[CGD][A-Z0-9]{6,}$/.test(token) ? token : undefined;
}
