/**
 * Bounded download of a user's attachment: only from allowed hosts (the platform's CDN), refused before
 * any byte moves when the declared size is over the limit, counted while streaming, and always under a
 * timeout and the caller's AbortSignal. Redirects are followed only to allowed hosts.
 */

export type DownloadFailure =
  | 'host_not_allowed'
  | 'too_large'
  | 'empty'
  | 'http'
  | 'timeout'
  | 'network'
  | 'aborted';

export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  readonly kind: DownloadFailure;
  constructor(kind: DownloadFailure, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.kind = kind;
  }
}

export interface DownloadOptions {
  readonly url: string;
  /** Size the platform declared for the attachment, checked before downloading. */
  readonly declaredSize?: number | undefined;
  readonly maxBytes: number;
  /** Host names (optionally host:port) allowed to serve the bytes. */
  readonly allowedHosts: readonly string[];
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /**
   * Sent with every request, e.g. a platform's bearer token. Safe because every hop, redirects included,
   * goes only to an allowed host: a credential never reaches any other.
   */
  readonly headers?: Readonly<Record<string, string>>;
  readonly fetch?: typeof fetch;
}

const MAX_REDIRECTS = 3;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Is this URL one we may fetch? https on an allowed host; plain http only on loopback (test servers). */
export function isAllowedUrl(raw: string, allowedHosts: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  const secure = url.protocol === 'https:';
  const loopback = url.protocol === 'http:' && LOOPBACK.has(url.hostname);
  if (!secure && !loopback) return false;
  // url.host carries the port only when it is not the protocol's default, so "cdn.discordapp.com" matches
  // https on 443 and "127.0.0.1:5000" matches a test server.
  return allowedHosts.some((h) => h.toLowerCase() === url.host.toLowerCase());
}

export async function boundedDownload(options: DownloadOptions): Promise<Uint8Array> {
  const { maxBytes } = options;
  if (options.declaredSize !== undefined) {
    if (options.declaredSize > maxBytes)
      throw new DownloadError('too_large', `declared size ${options.declaredSize} over ${maxBytes}`);
    if (options.declaredSize === 0) throw new DownloadError('empty', 'declared size 0');
  }
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const doFetch = options.fetch ?? fetch;
  let url = options.url;
  try {
    for (let hop = 0; ; hop++) {
      if (!isAllowedUrl(url, options.allowedHosts))
        throw new DownloadError('host_not_allowed', `host of ${new URL(url).host} is not allowed`);
      const response = await doFetch(url, {
        signal,
        redirect: 'manual',
        ...(options.headers && { headers: options.headers }),
      });
      if (response.status >= 300 && response.status < 400) {
        const location = response.headers.get('location');
        await response.body?.cancel();
        if (!location || hop >= MAX_REDIRECTS) throw new DownloadError('http', `redirect ${response.status}`);
        url = new URL(location, url).toString();
        continue;
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw new DownloadError('http', `HTTP ${response.status}`);
      }
      const length = Number(response.headers.get('content-length') ?? Number.NaN);
      if (Number.isFinite(length) && length > maxBytes) {
        await response.body?.cancel();
        throw new DownloadError('too_large', `content-length ${length} over ${maxBytes}`);
      }
      return await readBounded(response, maxBytes);
    }
  } catch (error) {
    if (error instanceof DownloadError) throw error;
    if (options.signal?.aborted) throw new DownloadError('aborted', 'download aborted', { cause: error });
    if (timeout.aborted)
      throw new DownloadError('timeout', `no complete download within ${options.timeoutMs} ms`, {
        cause: error,
      });
    throw new DownloadError('network', error instanceof Error ? error.message : String(error), {
      cause: error,
    });
  }
}

async function readBounded(response: Response, maxBytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new DownloadError('too_large', `body passed ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  if (total === 0) throw new DownloadError('empty', 'downloaded 0 bytes');
  return out;
}
