/**
 * Every failure a user can meet has a code, a message fit to show them, and the cause for the logs.
 * Adapters (CLI, Discord, Slack) map codes to their own replies; they never parse messages.
 */
export const ERROR_CODES = {
  'audio.empty': 'The file is empty.',
  'audio.unsupported':
    'That file is not audio I can read (supported: Ogg/Opus, WebM, M4A/AAC, MP3, WAV, FLAC, Ogg/Vorbis).',
  'audio.no_audio_track': 'That file has no audio track.',
  'audio.corrupt': 'I could not decode that audio: the file looks damaged.',
  'audio.too_large': 'That file is too large to analyse.',
  'audio.too_long': 'That recording is too long to analyse.',
  'audio.silent': 'I heard only silence in that recording.',
  'audio.too_short': 'That recording is under 1 second: too short to hear an emotion in.',
  'decoder.missing': 'No decoder for this format is installed on the server (ffmpeg is needed).',
  'decoder.timeout': 'Decoding took too long and was stopped.',
  'model.invalid': 'The emotion model could not be loaded.',
  'inference.failed': 'The emotion model failed on this recording.',
  'inference.overloaded': 'I am busy with other recordings right now; please try again in a minute.',
  'storage.failed': 'The result could not be saved.',
  'storage.unavailable':
    'I cannot store results right now, so I am not taking new recordings; the server admins have been told.',
  'input.not_found': 'That file does not exist.',
  'input.unreadable': 'That file could not be read.',
  aborted: 'The analysis was stopped before it finished.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AnnamalaiError extends Error {
  readonly code: ErrorCode;
  /** Safe to show to the person who sent the audio; never contains secrets or paths of the server. */
  readonly userMessage: string;
  /** What went wrong, for whoever runs the process (paths and reasons); undefined when none was given. */
  readonly detail: string | undefined;

  constructor(code: ErrorCode, options: { userMessage?: string; detail?: string; cause?: unknown } = {}) {
    const userMessage = options.userMessage ?? ERROR_CODES[code];
    super(options.detail ? `${code}: ${options.detail}` : `${code}: ${userMessage}`, {
      cause: options.cause,
    });
    this.name = 'AnnamalaiError';
    this.code = code;
    this.userMessage = userMessage;
    this.detail = options.detail;
  }
}

export function isAnnamalaiError(error: unknown): error is AnnamalaiError {
  return error instanceof AnnamalaiError;
}

/** Wraps anything thrown into a coded error, keeping coded ones as they are. */
export function toAnnamalaiError(error: unknown, fallback: ErrorCode): AnnamalaiError {
  if (isAnnamalaiError(error)) return error;
  if (error instanceof Error && error.name === 'AbortError')
    return new AnnamalaiError('aborted', { cause: error });
  return new AnnamalaiError(fallback, {
    cause: error,
    detail: error instanceof Error ? error.message : String(error),
  });
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}
