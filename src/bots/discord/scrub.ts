/**
 * Keeps secrets out of logs: the bot token (never interpolated anywhere, but a library error could carry
 * it) and interaction/webhook tokens, which appear in REST URLs of discord.js errors.
 */
export class Scrubber {
  readonly #token: string;
  constructor(token: string) {
    this.#token = token;
  }

  text(value: string): string {
    let out = value;
    if (this.#token) out = out.split(this.#token).join('[redacted]');
    return out
      .replace(/(\/(?:webhooks|interactions)\/\d+\/)[^/?\s"']+/g, '$1[redacted]')
      .replace(/(Bot\s+)[A-Za-z0-9._-]{20,}/g, '$1[redacted]');
  }

  /** An error as a plain, scrubbed object for pino. */
  error(error: unknown): Record<string, unknown> {
    if (!(error instanceof Error)) return { message: this.text(String(error)) };
    const e = error as Error & { code?: unknown; status?: unknown; url?: unknown; method?: unknown };
    return {
      name: e.name,
      message: this.text(e.message),
      ...(e.code !== undefined ? { code: e.code } : {}),
      ...(e.status !== undefined ? { status: e.status } : {}),
      ...(typeof e.method === 'string' ? { method: e.method } : {}),
      ...(typeof e.url === 'string' ? { url: this.text(e.url) } : {}),
      ...(e.stack ? { stack: this.text(e.stack) } : {}),
    };
  }
}
