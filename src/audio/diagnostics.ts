import { FFMPEG_INSTALL_HINT, type FfmpegLocation, ffmpegVersion, locateFfmpeg } from './ffmpeg.ts';
import { opusLibrary } from './opus.ts';

export interface DecoderDiagnostics {
  /** Decoded without any external program. */
  readonly inProcess: {
    readonly wav: true;
    /** Ogg/Opus and WebM/Opus; `library` is the Opus codec prism-media loaded. */
    readonly opus: { readonly available: boolean; readonly library?: string };
  };
  /** ffmpeg for MP3, M4A/AAC, FLAC, Vorbis, video files, and as the Opus fallback. */
  readonly ffmpeg:
    | {
        readonly available: true;
        readonly path: string;
        readonly source: FfmpegLocation['source'];
        readonly version?: string;
      }
    | { readonly available: false; readonly hint: string };
  /** Container formats that can be decoded right now. */
  readonly formats: readonly string[];
}

/** What the `diagnostics` command prints about decoding. */
export async function decoderDiagnostics(
  options: { env?: Readonly<Record<string, string | undefined>>; ffmpeg?: FfmpegLocation | null } = {},
): Promise<DecoderDiagnostics> {
  const location = options.ffmpeg !== undefined ? options.ffmpeg : locateFfmpeg(options.env ?? process.env);
  const library = opusLibrary();
  const version = location ? await ffmpegVersion(location) : undefined;
  const formats = ['WAV (PCM/float)'];
  if (library || location) formats.push('Ogg/Opus', 'WebM/Opus');
  if (location)
    formats.push(
      'MP3',
      'M4A/AAC',
      'MP4/MOV (audio track)',
      'FLAC',
      'Ogg/Vorbis',
      'WebM/Matroska (other codecs)',
    );
  return {
    inProcess: { wav: true, opus: library ? { available: true, library } : { available: false } },
    ffmpeg: location
      ? { available: true, path: location.path, source: location.source, ...(version ? { version } : {}) }
      : { available: false, hint: FFMPEG_INSTALL_HINT },
    formats,
  };
}
