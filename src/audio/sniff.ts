/**
 * Container detection from magic bytes. The bytes decide; file names and content types are hints only.
 * Only containers recognised here ever reach a decoder (ffmpeg is always told the format, never asked to guess).
 */

export type OggCodec = 'opus' | 'vorbis' | 'flac' | 'speex' | 'other';

export type Sniffed =
  | { readonly kind: 'ogg'; readonly codec: OggCodec }
  | { readonly kind: 'matroska'; readonly opus: boolean }
  | { readonly kind: 'wav' }
  | { readonly kind: 'flac' }
  | { readonly kind: 'mp3' }
  | { readonly kind: 'mp4' }
  | { readonly kind: 'adts' }
  | { readonly kind: 'not-audio'; readonly what: string }
  | { readonly kind: 'unknown' };

export type AudioContainer = Exclude<Sniffed['kind'], 'not-audio' | 'unknown'>;

/** ffmpeg demuxer names for each container, so ffmpeg never probes. */
export const FFMPEG_FORMAT: Readonly<Record<AudioContainer, string>> = {
  ogg: 'ogg',
  matroska: 'matroska',
  wav: 'wav',
  flac: 'flac',
  mp3: 'mp3',
  mp4: 'mov',
  adts: 'aac',
};

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  let s = '';
  for (let i = offset; i < offset + length && i < bytes.length; i++) s += String.fromCharCode(bytes[i] ?? 0);
  return s;
}

function startsWith(bytes: Uint8Array, magic: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + magic.length) return false;
  return magic.every((b, i) => bytes[offset + i] === b);
}

/** Finds an ASCII string in the first `limit` bytes. */
export function containsAscii(bytes: Uint8Array, needle: string, limit = bytes.length): boolean {
  const end = Math.min(bytes.length, limit) - needle.length;
  const first = needle.charCodeAt(0);
  outer: for (let i = 0; i <= end; i++) {
    if (bytes[i] !== first) continue;
    for (let j = 1; j < needle.length; j++) if (bytes[i + j] !== needle.charCodeAt(j)) continue outer;
    return true;
  }
  return false;
}

function oggCodec(bytes: Uint8Array): OggCodec {
  // First page: 27-byte header, segment table, then the first packet.
  const segments = bytes[26] ?? 0;
  const p = 27 + segments;
  if (ascii(bytes, p, 8) === 'OpusHead') return 'opus';
  if (bytes[p] === 0x01 && ascii(bytes, p + 1, 6) === 'vorbis') return 'vorbis';
  if (bytes[p] === 0x7f && ascii(bytes, p + 1, 4) === 'FLAC') return 'flac';
  if (ascii(bytes, p, 8) === 'Speex   ') return 'speex';
  return 'other';
}

const MP3_BITRATE_BAD = 15;
const MP3_RATE_BAD = 3;

function isMpegAudioFrame(bytes: Uint8Array, at: number): boolean {
  const b1 = bytes[at + 1] ?? 0;
  const b2 = bytes[at + 2] ?? 0;
  if (bytes[at] !== 0xff || (b1 & 0xe0) !== 0xe0) return false;
  const version = (b1 >> 3) & 3; // 1 is reserved
  const layer = (b1 >> 1) & 3; // 0 is reserved (ADTS uses it)
  return version !== 1 && layer !== 0 && b2 >> 4 !== MP3_BITRATE_BAD && ((b2 >> 2) & 3) !== MP3_RATE_BAD;
}

function isAdts(bytes: Uint8Array, at: number): boolean {
  const b1 = bytes[at + 1] ?? 0;
  return bytes[at] === 0xff && (b1 & 0xf6) === 0xf0 && ((bytes[at + 2] ?? 0) >> 2) % 16 < 13;
}

function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 1024);
  if (n === 0) return false;
  let printable = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i] ?? 0;
    if (b === 0) return false;
    if (b === 9 || b === 10 || b === 13 || b >= 32) printable++;
  }
  // UTF-8 text: every byte is printable or part of a multi-byte sequence (>= 0x80).
  return printable === n;
}

export function sniff(bytes: Uint8Array): Sniffed {
  if (startsWith(bytes, [0x4f, 0x67, 0x67, 0x53])) return { kind: 'ogg', codec: oggCodec(bytes) };
  if (startsWith(bytes, [0x1a, 0x45, 0xdf, 0xa3])) {
    // The Tracks element sits near the start; "A_OPUS" is the Opus codec id.
    return { kind: 'matroska', opus: containsAscii(bytes, 'A_OPUS', 64 * 1024) };
  }
  const riff = ascii(bytes, 0, 4);
  const riffType = ascii(bytes, 8, 4);
  if ((riff === 'RIFF' || riff === 'RF64' || riff === 'BW64') && riffType === 'WAVE') return { kind: 'wav' };
  if (riff === 'RIFF' && riffType === 'WEBP') return { kind: 'not-audio', what: 'a WebP image' };
  if (riff === 'RIFF' && riffType === 'AVI ') return { kind: 'not-audio', what: 'an AVI video' };
  if (ascii(bytes, 0, 4) === 'fLaC') return { kind: 'flac' };
  if (ascii(bytes, 4, 4) === 'ftyp') return { kind: 'mp4' };
  if (ascii(bytes, 0, 3) === 'ID3') {
    // ID3v2 tag (syncsafe size) in front of MP3 (or, rarely, AAC/FLAC).
    const size =
      (((bytes[6] ?? 0) & 0x7f) << 21) |
      (((bytes[7] ?? 0) & 0x7f) << 14) |
      (((bytes[8] ?? 0) & 0x7f) << 7) |
      ((bytes[9] ?? 0) & 0x7f);
    const after = 10 + size + ((bytes[5] ?? 0) & 0x10 ? 10 : 0);
    if (after < bytes.length) {
      const inner = sniff(bytes.subarray(after));
      if (inner.kind === 'flac' || inner.kind === 'adts') return inner;
    }
    return { kind: 'mp3' };
  }
  if (isAdts(bytes, 0)) return { kind: 'adts' };
  if (isMpegAudioFrame(bytes, 0)) return { kind: 'mp3' };

  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47])) return { kind: 'not-audio', what: 'a PNG image' };
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { kind: 'not-audio', what: 'a JPEG image' };
  if (ascii(bytes, 0, 4) === 'GIF8') return { kind: 'not-audio', what: 'a GIF image' };
  if (ascii(bytes, 0, 5) === '%PDF-') return { kind: 'not-audio', what: 'a PDF document' };
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]))
    return { kind: 'not-audio', what: 'a ZIP archive or office document' };
  if (startsWith(bytes, [0x1f, 0x8b])) return { kind: 'not-audio', what: 'a gzip archive' };
  if (ascii(bytes, 0, 4) === '\x7fELF') return { kind: 'not-audio', what: 'a program' };
  if (looksLikeText(bytes)) return { kind: 'not-audio', what: 'a text file' };
  return { kind: 'unknown' };
}
