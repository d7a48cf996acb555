import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { ConfigError } from '../config.ts';

/** Whether only this machine can reach a server bound to `host`. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * A server anyone on the network can reach must not analyse their recordings for free or show the page
 * to strangers: refuses to start without WEB_TOKEN then (a ConfigError: one line, exit 2).
 */
export function checkExposure(host: string, token: string | undefined): void {
  if (isLoopback(host) || token !== undefined) return;
  throw new ConfigError(
    `WEB_HOST is ${host}, which other machines can reach: set WEB_TOKEN (at least 16 characters) so that ` +
      'only people who have it can use the page and the API, or bind to 127.0.0.1.',
  );
}

/**
 * The API takes the token as a bearer header; the page as the password of the browser's login prompt
 * (HTTP Basic, any user name), which the browser then also sends with the page's own API calls.
 */
export function isAuthorized(headers: IncomingHttpHeaders, token: string | undefined): boolean {
  if (token === undefined) return true;
  const header = headers.authorization ?? '';
  const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1];
  if (bearer !== undefined) return sameSecret(bearer.trim(), token);
  const basic = /^Basic\s+(.+)$/i.exec(header)?.[1];
  if (basic === undefined) return false;
  const decoded = Buffer.from(basic.trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && sameSecret(decoded.slice(colon + 1), token);
}

/** Compares digests, so neither the length nor the content leaks through timing. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
