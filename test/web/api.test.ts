import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkQueue } from '../../src/bots/shared/work-queue.ts';
import { ConfigError } from '../../src/config.ts';
import { ERROR_CODES } from '../../src/core/errors.ts';
import { ESTIMATE_NOTE } from '../../src/core/summary.ts';
import { FileStorageMonitor } from '../../src/storage/monitor.ts';
import { checkExposure, isLoopback } from '../../src/web/auth.ts';
import { HTTP_STATUS } from '../../src/web/errors.ts';
import type { RunningWebServer } from '../../src/web/server.ts';
import { cli, jsonLines } from '../cli/run-cli.ts';
import { FIXTURES, openWebWorld, type WebWorld } from './harness.ts';
import { send } from './http.ts';

const SPEECH = `${FIXTURES}/speech.webm`;
const speech = new Uint8Array(readFileSync(SPEECH));

let world: WebWorld;
let server: RunningWebServer;
beforeAll(async () => {
  world = await openWebWorld();
  server = await world.start();
});
afterAll(async () => {
  await world?.close();
});

function post(url: string, body: Uint8Array, headers: Record<string, string> = {}) {
  return send(url, {
    method: 'POST',
    parts: [body],
    headers: { 'content-type': 'application/octet-stream', ...headers },
  });
}

/**
 * A WebM upload that is never finished: `headers` and the `parts` sent so far. The answer can only come
 * from what the server read of them.
 */
function unfinishedUpload(to: RunningWebServer, headers: Record<string, string>, parts: Uint8Array[] = []) {
  return send(`${to.url}/api/v1/analyze`, {
    method: 'POST',
    headers: { 'content-type': 'audio/webm', ...headers },
    parts,
    end: false,
  });
}

function multipart(name: string, bytes: Uint8Array, field = 'file'): { body: Uint8Array; type: string } {
  const boundary = 'annamalai-test-boundary';
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${name}"\r\nContent-Type: audio/webm\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const body = Buffer.concat([Buffer.from(head), bytes, Buffer.from(tail)]);
  return { body, type: `multipart/form-data; boundary=${boundary}` };
}

describe('POST /api/v1/analyze: the JSON contract of `analyze --format json`', () => {
  it('answers a raw body and a multipart upload with exactly the CLI line for the same file', async () => {
    const [cliLine] = jsonLines((await cli(['analyze', '--format', 'json', SPEECH])).stdout);
    const raw = await post(`${server.url}/api/v1/analyze?name=${encodeURIComponent(SPEECH)}`, speech);
    expect(raw.status).toBe(200);
    expect(raw.headers['content-type']).toBe('application/json');
    expect(raw.json).toEqual(cliLine);

    const form = multipart('speech.webm', speech);
    const parted = await post(`${server.url}/api/v1/analyze`, form.body, { 'content-type': form.type });
    expect(parted.status).toBe(200);
    expect(parted.json).toEqual({ ...(cliLine as object), file: 'speech.webm' });
  });

  it('answers a recording that fails with the CLI failure line and the status of its code', async () => {
    const png = new Uint8Array(readFileSync(`${FIXTURES}/image.png`));
    const [cliLine] = jsonLines((await cli(['analyze', '--format', 'json', `${FIXTURES}/image.png`])).stdout);
    const answer = await post(
      `${server.url}/api/v1/analyze?name=${encodeURIComponent(`${FIXTURES}/image.png`)}`,
      png,
    );
    expect(answer.status).toBe(415);
    expect(answer.json).toEqual(cliLine);
  });
});

describe('every status code, with its coded error', () => {
  it('400 for an empty body and for a form without a file', async () => {
    const empty = await post(`${server.url}/api/v1/analyze`, new Uint8Array());
    expect(empty.status).toBe(400);
    expect(empty.json.error).toEqual({ code: 'audio.empty', message: ERROR_CODES['audio.empty'] });
    const form = await send(`${server.url}/api/v1/analyze`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
      parts: [Buffer.from('--x\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--x--\r\n')],
    });
    expect(form.status).toBe(400);
    expect(form.json.error.code).toBe('request.invalid');
  });

  it('422 for silence and for a recording over the duration limit', async () => {
    const silent = await post(
      `${server.url}/api/v1/analyze`,
      new Uint8Array(readFileSync(`${FIXTURES}/silence-1s.wav`)),
    );
    expect(silent.status).toBe(422);
    expect(silent.json.error).toEqual({ code: 'audio.silent', message: ERROR_CODES['audio.silent'] });
    const short = await world.start({ limits: { maxDurationSeconds: 2 } });
    const long = await post(`${short.url}/api/v1/analyze`, speech);
    expect(long.status).toBe(422);
    expect(long.json.error.code).toBe('audio.too_long');
  });

  it('413 for a declared Content-Length over the limit, answered before any of the body is sent', async () => {
    const small = await world.start({ limits: { maxBytes: 10_000 } });
    const answer = await unfinishedUpload(small, { 'content-length': String(50_000_000) });
    expect(answer.status).toBe(413);
    expect(answer.json.error).toEqual({ code: 'audio.too_large', message: ERROR_CODES['audio.too_large'] });
    expect(answer.headers.connection).toBe('close');
  });

  it('413 for an undeclared (chunked) body as soon as it passes the limit, while it is still being sent', async () => {
    const small = await world.start({ limits: { maxBytes: 10_000 } });
    // The request never ends: an answer can only come from counting the bytes as they arrive.
    const answer = await unfinishedUpload(small, { 'transfer-encoding': 'chunked' }, [
      speech.subarray(0, 8_000),
      speech.subarray(8_000, 16_000),
    ]);
    expect(answer.status).toBe(413);
    expect(answer.json.error.code).toBe('audio.too_large');
  });

  it('408 when the upload is too slow', async () => {
    const impatient = await world.start({ settings: { uploadTimeoutMs: 300 } });
    const answer = await unfinishedUpload(impatient, { 'content-length': String(speech.length) }, [
      speech.subarray(0, 1000),
    ]);
    expect(answer.status).toBe(408);
    expect(answer.json.error.code).toBe('request.timeout');
  });

  it('429 with Retry-After once a client passes its rate limit, before its upload is read', async () => {
    const strict = await world.start({ settings: { rateLimitPerMinute: 2 } });
    expect((await post(`${strict.url}/api/v1/analyze`, speech)).status).toBe(200);
    expect((await post(`${strict.url}/api/v1/analyze`, speech)).status).toBe(200);
    const third = await unfinishedUpload(strict, { 'content-length': String(speech.length) });
    expect(third.status).toBe(429);
    expect(third.json.error.code).toBe('request.rate_limited');
    expect(third.json.error.message).toMatch(/please try again in \d+ seconds?\./);
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('503 "busy" when the work queue is full, with the core message', async () => {
    const queue = new WorkQueue({ concurrency: 1, maxQueued: 0 });
    let release = () => {};
    const blocker = queue.push(() => new Promise<void>((resolve) => (release = resolve)));
    const busy = await world.start({ queue });
    const answer = await post(`${busy.url}/api/v1/analyze`, speech);
    expect(answer.status).toBe(503);
    expect(answer.json.error).toEqual({
      code: 'inference.overloaded',
      message: ERROR_CODES['inference.overloaded'],
    });
    release();
    await blocker;
    expect((await post(`${busy.url}/api/v1/analyze`, speech)).status).toBe(200);
  });

  it('503 "busy" when as many uploads are arriving as the queue could take, so memory stays bounded', async () => {
    const narrow = await world.start({ settings: { concurrency: 1, queueMax: 0 } });
    // The first upload is on its way (half sent, never finished): it holds the one slot.
    const first = unfinishedUpload(narrow, { 'content-length': String(speech.length) }, [
      speech.subarray(0, 4000),
    ]).catch(() => undefined);
    // Until the first request has reached the server, another may still get through; then none may.
    let second = await post(`${narrow.url}/api/v1/analyze`, speech);
    for (let tries = 0; second.status === 200 && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      second = await post(`${narrow.url}/api/v1/analyze`, speech);
    }
    expect(second.status).toBe(503);
    expect(second.json.error.code).toBe('inference.overloaded');
    await narrow.close(0);
    await first;
  });

  it('404 for an unknown path (no file outside the fixed table) and 405 for GET on analyze', async () => {
    expect((await send(`${server.url}/../package.json`)).status).toBe(404);
    expect((await send(`${server.url}/vendor/../../package.json`)).status).toBe(404);
    expect((await send(`${server.url}/app.js/..%2f..%2fserver.ts`)).status).toBe(404);
    const get = await send(`${server.url}/api/v1/analyze`);
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
  });

  it('gives every code, core and web, a status in the one table', () => {
    for (const code of Object.keys(ERROR_CODES)) expect(HTTP_STATUS).toHaveProperty([code]);
    expect(new Set(Object.values(HTTP_STATUS))).toEqual(
      new Set([400, 401, 404, 405, 408, 413, 415, 422, 429, 500, 503]),
    );
  });
});

describe('health, readiness, about and the OpenAPI document', () => {
  it('/healthz and /readyz say the model is loaded; no database is "not configured"', async () => {
    expect((await send(`${server.url}/healthz`)).json).toEqual({ status: 'ok' });
    const ready = await send(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({
      status: 'ready',
      model: { state: 'loaded' },
      database: 'not configured',
    });
  });

  it('/api/v1/about gives the model, the limit and the core estimate note', async () => {
    const about = await send(`${server.url}/api/v1/about`);
    expect(about.json).toMatchObject({
      model: { id: 'annamalai-test-fixture-tiny', fixture: true },
      estimate_note: ESTIMATE_NOTE,
      max_input_bytes: world.services.analyzer.limits.maxBytes,
      messages: { 'audio.too_large': ERROR_CODES['audio.too_large'] },
    });
  });

  it('describes the real contract: OpenAPI 3.1, every error status, the report keys of a real answer', async () => {
    const doc = (await send(`${server.url}/api/v1/openapi.json`)).json;
    expect(doc.openapi).toBe('3.1.0');
    const responses = doc.paths['/api/v1/analyze'].post.responses;
    for (const status of ['200', '400', '408', '413', '415', '422', '429', '503'])
      expect(responses).toHaveProperty([status]);
    expect(responses['413'].content['application/json'].schema.properties.error.properties.code.enum).toEqual(
      ['audio.too_large'],
    );
    const real = (await post(`${server.url}/api/v1/analyze`, speech)).json;
    const report = doc.components.schemas.Report;
    expect(Object.keys(real).sort()).toEqual([...report.required].sort());
    const segment = report.properties.segments.items;
    expect(Object.keys(real.segments[0]).sort()).toEqual([...segment.required].sort());
    expect(Object.keys(real.summary).sort()).toEqual([...report.properties.summary.required].sort());
  });
});

describe('security', () => {
  it('sends CSP without inline script, nosniff, frame-ancestors none and no referrer on pages, API and errors', async () => {
    for (const path of ['/', '/app.js', '/api/v1/openapi.json', '/nowhere', '/healthz']) {
      const { headers } = await send(`${server.url}${path}`);
      const csp = String(headers['content-security-policy']);
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      expect(csp).toMatch(/frame-ancestors 'none'/);
      expect(csp).toMatch(/default-src 'none'/);
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['referrer-policy']).toBe('no-referrer');
      expect(headers['x-frame-options']).toBe('DENY');
    }
  });

  it('serves a page with no inline script or handler and wavesurfer.js from this server', async () => {
    const page = (await send(`${server.url}/`)).text;
    const scripts = [...page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="\/[^/]/);
      expect(body?.trim()).toBe('');
    }
    expect(page).not.toMatch(/\son[a-z]+=/i);
    expect(page).not.toMatch(/https?:\/\//);
    const vendor = await send(`${server.url}/vendor/wavesurfer.esm.js`);
    expect(vendor.status).toBe(200);
    expect(vendor.headers['content-type']).toMatch(/^text\/javascript/);
    expect((await send(`${server.url}/vendor/regions.esm.js`)).status).toBe(200);
  });

  it('with WEB_TOKEN: the API needs the bearer token, the page the login prompt; health needs nothing', async () => {
    const token = 'a-long-enough-test-token-123';
    const locked = await world.start({ settings: { token } });
    const none = await post(`${locked.url}/api/v1/analyze`, speech);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(none.json.error.code).toBe('request.unauthorized');
    expect(
      (await post(`${locked.url}/api/v1/analyze`, speech, { authorization: 'Bearer wrong-token' })).status,
    ).toBe(401);
    expect(
      (await post(`${locked.url}/api/v1/analyze`, speech, { authorization: `Bearer ${token}` })).status,
    ).toBe(200);
    const page = await send(`${locked.url}/`);
    expect(page.status).toBe(401);
    expect(page.headers['www-authenticate']).toMatch(/^Basic realm="Annamalai"/);
    const basic = Buffer.from(`anyone:${token}`).toString('base64');
    expect((await send(`${locked.url}/`, { headers: { authorization: `Basic ${basic}` } })).status).toBe(200);
    expect((await send(`${locked.url}/healthz`)).status).toBe(200);
  });

  it('refuses to bind beyond loopback without WEB_TOKEN', async () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('127.0.0.2')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('localhost')).toBe(true);
    expect(isLoopback('0.0.0.0')).toBe(false);
    expect(isLoopback('::')).toBe(false);
    expect(isLoopback('192.168.1.5')).toBe(false);
    expect(() => checkExposure('0.0.0.0', undefined)).toThrow(ConfigError);
    expect(() => checkExposure('0.0.0.0', 'a-long-enough-test-token-123')).not.toThrow();
    await expect(world.start({ settings: { host: '0.0.0.0' } })).rejects.toThrow(/set WEB_TOKEN/);
  });

  it('`annamalai serve --host 0.0.0.0` without WEB_TOKEN exits 2 with the reason, before loading the model', async () => {
    const run = await cli(['serve', '--host', '0.0.0.0', '--port', '0'], { WEB_TOKEN: '' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/WEB_HOST is 0\.0\.0\.0, which other machines can reach: set WEB_TOKEN/);
  });
});

describe('storage', () => {
  it('stores a result only with a database, under an anonymous id, with no user or file name; a lost database makes it not ready and refuses work', async () => {
    const stored = await openWebWorld({ database: true });
    try {
      const withDb = await stored.start();
      const answer = await post(`${withDb.url}/api/v1/analyze?name=my-private-name.webm`, speech);
      expect(answer.status).toBe(200);
      const id = String(answer.headers['x-analysis-id']);
      const row = await stored.services.storage?.results.get(id);
      expect(row).toMatchObject({ platform: 'web', outcome: { status: 'ok' } });
      expect(row?.userId).toBeUndefined();
      expect(row?.sourceName).toBeUndefined();
      expect((await send(`${withDb.url}/readyz`)).json.database).toBe('ok');

      // The database file lost (deleted, replaced, read-only): not ready, and new work refused.
      const health = stored.services.storage?.health;
      if (!(health instanceof FileStorageMonitor)) throw new Error('expected the file monitor');
      health.markLost('database file was deleted');
      const ready = await send(`${withDb.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.json).toMatchObject({ status: 'not ready', database: 'lost' });
      const refused = await post(`${withDb.url}/api/v1/analyze`, speech);
      expect(refused.status).toBe(503);
      expect(refused.json.error).toEqual({
        code: 'storage.unavailable',
        message: ERROR_CODES['storage.unavailable'],
      });
    } finally {
      await stored.close();
    }
    expect((await post(`${server.url}/api/v1/analyze`, speech)).headers['x-analysis-id']).toBeUndefined();
  });
});
