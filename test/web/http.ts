import { request } from 'node:http';

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests walk the API's JSON
  readonly json: any;
}

/**
 * One request with a raw body, written as `parts` (each awaited), ending it only when `end` is true:
 * resolves with the answer as soon as the server gives one, even mid-upload.
 */
export function send(
  url: string,
  options: {
    readonly method?: string;
    readonly headers?: Record<string, string>;
    readonly parts?: readonly Uint8Array[];
    readonly end?: boolean;
  } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        req.destroy();
      });
    });
    // A refused upload's connection may close while we still write: once answered, that changes nothing.
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
    // Node holds the headers back until the first write; a body that never comes must not hold them.
    req.flushHeaders();
    void (async () => {
      for (const part of options.parts ?? []) {
        if (req.destroyed) return;
        await new Promise<void>((done) => req.write(part, () => done()));
      }
      if (options.end ?? true) req.end();
    })();
  });
}
