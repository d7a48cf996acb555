import { ERROR_CODES, type ErrorCode } from '../core/errors.ts';

/**
 * Failures of the HTTP exchange itself, before or around the analysis. Analysis failures keep the core's
 * codes and messages (src/core/errors.ts), the same the CLI and the bots give.
 */
export const REQUEST_ERRORS = {
  'request.invalid':
    'That request holds no recording: send the audio as the request body, or as the one file of a form.',
  'request.unauthorized': 'This server needs its access token.',
  'request.not_found': 'There is nothing at this address.',
  'request.method_not_allowed': 'That method is not allowed here.',
  'request.timeout': 'The upload was too slow and was stopped; please try again.',
  'request.rate_limited': 'You have sent a lot of recordings just now: please try again in a minute.',
  'request.restarting': 'The server is restarting: please try again in a minute.',
  'request.failed': 'Something went wrong on the server; please try again.',
} as const;

export type RequestErrorCode = keyof typeof REQUEST_ERRORS;
export type WebErrorCode = ErrorCode | RequestErrorCode;

/**
 * The one table from a code to its HTTP status. A Record over every code: a new core code does not
 * compile until it is given a status here.
 */
export const HTTP_STATUS: Readonly<Record<WebErrorCode, number>> = {
  'request.invalid': 400,
  'audio.empty': 400,
  'input.not_found': 400,
  'input.unreadable': 400,
  'request.unauthorized': 401,
  'request.not_found': 404,
  'request.method_not_allowed': 405,
  'request.timeout': 408,
  'audio.too_large': 413,
  'audio.unsupported': 415,
  'audio.no_audio_track': 422,
  'audio.corrupt': 422,
  'audio.too_long': 422,
  'audio.too_short': 422,
  'audio.silent': 422,
  'decoder.timeout': 422,
  'request.rate_limited': 429,
  'inference.overloaded': 503,
  'request.restarting': 503,
  'storage.unavailable': 503,
  'decoder.missing': 503,
  'model.invalid': 503,
  aborted: 503,
  'inference.failed': 500,
  'storage.failed': 500,
  'request.failed': 500,
};

/** A refusal the server answers with `{"error":{"code","message"}}` and the code's status. */
export class WebError extends Error {
  override readonly name = 'WebError';
  readonly code: WebErrorCode;
  readonly userMessage: string;
  /** Extra response headers (Retry-After, WWW-Authenticate). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: WebErrorCode,
    options: { userMessage?: string; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    const userMessage = options.userMessage ?? messageOf(code);
    super(`${code}: ${userMessage}`, { cause: options.cause });
    this.code = code;
    this.userMessage = userMessage;
    this.headers = options.headers ?? {};
  }

  get status(): number {
    return HTTP_STATUS[this.code];
  }
}

export function messageOf(code: WebErrorCode): string {
  return code in REQUEST_ERRORS ? REQUEST_ERRORS[code as RequestErrorCode] : ERROR_CODES[code as ErrorCode];
}
