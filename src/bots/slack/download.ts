import { boundedDownload } from '../shared/download.ts';

export interface SlackDownloadOptions {
  readonly url: string;
  readonly declaredSize?: number | undefined;
  readonly maxBytes: number;
  readonly botToken: string;
  readonly fileHosts: readonly string[];
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly fetch?: typeof fetch;
}

/**
 * url_private → bytes, bounded (declared size, counted bytes, timeout). Slack wants the bot token as a
 * bearer header; the shared download sends it only to Slack's file hosts, re-checking every redirect hop.
 */
export function downloadSlackFile(options: SlackDownloadOptions): Promise<Uint8Array> {
  return boundedDownload({
    url: options.url,
    declaredSize: options.declaredSize,
    maxBytes: options.maxBytes,
    allowedHosts: options.fileHosts,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    headers: { authorization: `Bearer ${options.botToken}` },
    ...(options.fetch && { fetch: options.fetch }),
  });
}
