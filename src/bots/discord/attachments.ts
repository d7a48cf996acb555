import type { Attachment } from 'discord.js';
import { boundedDownload } from '../shared/download.ts';

/** A recording attached to a Discord message, as the job downloads it. */
export interface AudioSource {
  readonly url: string;
  readonly name: string;
  readonly size: number;
  readonly contentType?: string | undefined;
  readonly id: string;
}

const AUDIO_EXTENSIONS = /\.(ogg|oga|opus|webm|m4a|mp4|aac|mp3|wav|flac|mov|mkv)$/i;

/** The attachment to analyse: a voice message's, else the first that looks like audio (or video). */
export function pickAudio(
  attachments: readonly Attachment[],
  isVoiceMessage: boolean,
): AudioSource | undefined {
  const found =
    (isVoiceMessage ? attachments[0] : undefined) ??
    attachments.find((a) => a.contentType?.startsWith('audio/') || a.contentType?.startsWith('video/')) ??
    attachments.find((a) => AUDIO_EXTENSIONS.test(a.name));
  return found ? toSource(found) : undefined;
}

export function toSource(a: Attachment): AudioSource {
  return { url: a.url, name: a.name, size: a.size, contentType: a.contentType ?? undefined, id: a.id };
}

/** The bounded download of an attachment: only from Discord's CDN hosts, under the size limit and a timeout. */
export function attachmentDownload(
  audio: AudioSource,
  options: { readonly maxBytes: number; readonly hosts: readonly string[]; readonly timeoutMs: number },
): (signal: AbortSignal) => Promise<Uint8Array> {
  return (signal) =>
    boundedDownload({
      url: audio.url,
      declaredSize: audio.size,
      maxBytes: options.maxBytes,
      allowedHosts: options.hosts,
      timeoutMs: options.timeoutMs,
      signal,
    });
}
