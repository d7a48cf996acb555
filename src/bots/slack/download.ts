import { boundedDownload, isAllowedUrl } from '../shared/download.ts';

/**
 * Slack's url_private needs `Authorization: Bearer <bot token>`. The shared bounded download takes a
 * `fetch`; this one adds the header only when the URL's host is one of Slack's file hosts, on every hop
 * (the shared download follows redirects by hand, re-checking the host each time, so a redirect to any
 * other host is refused before a request is made, and the token never rides along).
 *
 * Extension point to merge into src/bots/shared/download.ts: a `headersFor(url)` option would make this
 * wrapper unnecessary.
 */
export function slackFileFetch(
  botToken: string,
  fileHosts: readonly string[],
  inner: typeof fetch = fetch,
): typeof fetch {
  return (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!isAllowedUrl(url, fileHosts)) return Promise.reject(new Error('refusing a non-Slack file host'));
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${botToken}`);
    // Never let fetch follow a redirect by itself: the caller re-checks each hop's host.
    return inner(url, { ...init, headers, redirect: 'manual' });
  };
}

export interface SlackDownloadOptions {
  readonly url: string;
  readonly declaredSize?: number | undefined;
  readonly maxBytes: number;
  readonly botToken: string;
  readonly fileHosts: readonly string[];
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** url_private → bytes, bounded (declared size, counted bytes, timeout), token only to Slack's file hosts. */
export function downloadSlackFile(options: SlackDownloadOptions): Promise<Uint8Array> {
  return boundedDownload({
    url: options.url,
    declaredSize: options.declaredSize,
    maxBytes: options.maxBytes,
    allowedHosts: options.fileHosts,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    fetch: slackFileFetch(options.botToken, options.fileHosts),
  });
}
