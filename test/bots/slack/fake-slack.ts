import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type WebSocket, WebSocketServer } from 'ws';

/**
 * A fake Slack on 127.0.0.1, enough for the real Bolt app:
 * - Web API at `${url}/api/` (clientOptions.slackApiUrl): every call recorded with its arguments and
 *   Authorization header; answers are defaults per method, or what a test sets with `on` / `failNext`.
 * - Socket Mode: apps.connections.open hands out `ws://127.0.0.1:…/socket`, whose server says hello,
 *   delivers envelopes, records acks, and redelivers unacked envelopes on the next connection. Like Slack
 *   with an app connected several times (several processes), each envelope goes to one open connection,
 *   taken in turn; envelopes of a connection that is gone go to the next one that opens.
 * - A file host at `${url}/files/<name>` serving test/fixtures/audio (or bytes a test registers), and
 *   `${url}/redirect?to=<url>` answering 302; every file request is recorded with its Authorization.
 * - response_url endpoints at `${url}/response/<id>`, recorded.
 * - files.getUploadURLExternal's upload URL at `${url}/upload/<id>`, recorded.
 */

export const FIXTURES = 'test/fixtures/audio';

export interface ApiCall {
  readonly method: string;
  readonly args: Record<string, unknown>;
  readonly authorization: string | undefined;
  readonly at: number;
  /** What the fake answered. */
  reply?: Record<string, unknown>;
}

export interface HostRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly at: number;
}

export interface ApiReply {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

type Handler = (args: Record<string, unknown>) => ApiReply | Record<string, unknown>;

export interface Envelope {
  readonly envelope_id: string;
  readonly type: string;
  readonly payload: Record<string, unknown>;
  readonly accepts_response_payload: boolean;
  retry_attempt: number;
  retry_reason: string;
}

export interface Ack {
  readonly envelope_id: string;
  readonly payload: Record<string, unknown> | undefined;
  readonly at: number;
}

export const TEAM = 'T0TEAM';
export const BOT_USER = 'U0BOT';

function isReply(value: unknown): value is ApiReply {
  return typeof value === 'object' && value !== null && ('status' in value || 'body' in value);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseArgs(raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  const text = raw.toString('utf8');
  if (!text) return {};
  if (contentType?.includes('application/json')) return JSON.parse(text) as Record<string, unknown>;
  const args: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    args[k] = /^[[{]/.test(v) ? safeParse(v) : v;
  }
  return args;
}

function safeParse(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

export class FakeSlack {
  readonly calls: ApiCall[] = [];
  readonly fileRequests: HostRequest[] = [];
  readonly responses: { readonly id: string; readonly body: Record<string, unknown>; readonly at: number }[] =
    [];
  readonly uploads: {
    readonly id: string;
    readonly bytes: number;
    readonly authorization: string | undefined;
  }[] = [];
  readonly acks: Ack[] = [];
  readonly envelopes: Envelope[] = [];
  /** Channel id → messages, newest first (conversations.history). */
  readonly history = new Map<string, Record<string, unknown>[]>();
  /** User id → users.info user object. */
  readonly users = new Map<string, Record<string, unknown>>();
  /** File id → files.info file object. */
  readonly fileInfo = new Map<string, Record<string, unknown>>();
  /** Extra bytes served by the file host, by name. */
  readonly hostedFiles = new Map<string, Uint8Array>();
  connections = 0;
  /** Delay before the file host answers (to keep work in flight while a test acts). */
  fileDelayMs = 0;

  readonly #server: Server;
  readonly #wss: WebSocketServer;
  readonly #handlers = new Map<string, Handler>();
  readonly #once = new Map<string, ApiReply[]>();
  readonly #ackWaiters = new Map<string, (ack: Ack) => void>();
  /** Open connections, oldest first. */
  #sockets: WebSocket[] = [];
  /** The connection each envelope went to, until acked. */
  readonly #sentOn = new Map<string, WebSocket>();
  #turn = 0;
  #ts = 1_700_000_000;
  #ids = 0;
  #port = 0;

  private constructor() {
    this.#server = createServer((req, res) => {
      this.#route(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
    this.#wss = new WebSocketServer({ noServer: true });
    this.#server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/socket')) return socket.destroy();
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws));
    });
  }

  static async start(): Promise<FakeSlack> {
    const fake = new FakeSlack();
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    fake.#port = (fake.#server.address() as AddressInfo).port;
    return fake;
  }

  get host(): string {
    return `127.0.0.1:${this.#port}`;
  }
  get url(): string {
    return `http://${this.host}`;
  }
  get apiUrl(): string {
    return `${this.url}/api/`;
  }
  fileUrl(name: string): string {
    return `${this.url}/files/${encodeURIComponent(name)}`;
  }
  responseUrl(id: string): string {
    return `${this.url}/response/${id}`;
  }

  /** Answers every call of `method` with `handler`'s result. */
  on(method: string, handler: Handler): void {
    this.#handlers.set(method, handler);
  }
  /** The next call of `method` gets this reply (e.g. a 429) instead of the usual one. */
  failNext(method: string, reply: ApiReply): void {
    const queue = this.#once.get(method) ?? [];
    queue.push(reply);
    this.#once.set(method, queue);
  }

  callsOf(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  nextId(prefix: string): string {
    this.#ids += 1;
    return `${prefix}${String(this.#ids).padStart(6, '0')}`;
  }
  nextTs(): string {
    this.#ts += 1;
    return `${this.#ts}.000100`;
  }

  /** Sends (or queues until a socket is open) an envelope; resolves with the app's ack. */
  deliver(type: string, payload: Record<string, unknown>, acceptsResponse = false): Promise<Ack> {
    const envelope: Envelope = {
      envelope_id: this.nextId('env-'),
      type,
      payload,
      accepts_response_payload: acceptsResponse,
      retry_attempt: 0,
      retry_reason: '',
    };
    this.envelopes.push(envelope);
    const acked = new Promise<Ack>((resolve) => this.#ackWaiters.set(envelope.envelope_id, resolve));
    this.#send(envelope);
    return acked;
  }

  /** Slack's retry of an event: the same payload (same event_id) in a new envelope. */
  redeliver(envelope: Envelope, reason = 'timeout'): Promise<Ack> {
    const again: Envelope = {
      ...envelope,
      envelope_id: this.nextId('env-'),
      retry_attempt: envelope.retry_attempt + 1,
      retry_reason: reason,
    };
    this.envelopes.push(again);
    const acked = new Promise<Ack>((resolve) => this.#ackWaiters.set(again.envelope_id, resolve));
    this.#send(again);
    return acked;
  }

  /** Cuts the newest Socket Mode connection without a close handshake, as a network drop would. */
  dropSocket(): void {
    this.#sockets.pop()?.terminate();
  }

  /** Asks the app on the newest connection to reconnect, as Slack does before recycling a connection. */
  sendDisconnect(reason = 'refresh_requested'): void {
    this.#sockets
      .at(-1)
      ?.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'fake-slack' } }));
  }

  /** How many Socket Mode connections are open now (`connections` counts every one ever opened). */
  get openConnections(): number {
    return this.#sockets.length;
  }

  eventPayload(event: Record<string, unknown>, eventId = this.nextId('Ev')): Record<string, unknown> {
    return {
      token: 'verification-token-unused',
      team_id: TEAM,
      api_app_id: 'A0APP',
      event: { event_ts: this.nextTs(), ...event },
      type: 'event_callback',
      event_id: eventId,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: TEAM, user_id: BOT_USER, is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false,
    };
  }

  async waitFor<T>(probe: () => T | undefined | false, timeoutMs = 20_000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    for (const ws of this.#wss.clients) ws.terminate();
    this.#wss.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** To one open connection, each in turn; with none open it waits for the next connection. */
  #send(envelope: Envelope): void {
    this.#sockets = this.#sockets.filter((s) => s.readyState === s.OPEN);
    const socket = this.#sockets[this.#turn++ % Math.max(1, this.#sockets.length)];
    if (!socket) return;
    this.#sentOn.set(envelope.envelope_id, socket);
    socket.send(JSON.stringify(envelope));
  }

  #onConnection(ws: WebSocket): void {
    this.connections += 1;
    this.#sockets.push(ws);
    const gone = () => {
      this.#sockets = this.#sockets.filter((s) => s !== ws);
    };
    ws.on('close', gone);
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { envelope_id?: string; payload?: Record<string, unknown> };
      if (!msg.envelope_id) return;
      const ack: Ack = { envelope_id: msg.envelope_id, payload: msg.payload, at: Date.now() };
      this.acks.push(ack);
      this.#sentOn.delete(msg.envelope_id);
      this.#ackWaiters.get(msg.envelope_id)?.(ack);
      this.#ackWaiters.delete(msg.envelope_id);
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.#sockets.length,
        debug_info: { host: 'fake-slack', approximate_connection_time: 18060 },
        connection_info: { app_id: 'A0APP' },
      }),
    );
    // Like Slack: envelopes not acked on a connection that is gone (or sent while none was open) are
    // delivered again on the new one; those in flight on another open connection stay there.
    for (const envelope of this.envelopes) {
      if (this.acks.some((a) => a.envelope_id === envelope.envelope_id)) continue;
      const on = this.#sentOn.get(envelope.envelope_id);
      if (on && on !== ws && on.readyState === on.OPEN) continue;
      envelope.retry_attempt += 1;
      envelope.retry_reason = 'reconnect';
      this.#sentOn.set(envelope.envelope_id, ws);
      ws.send(JSON.stringify(envelope));
    }
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const authorization = req.headers.authorization;
    const raw = await readBody(req);
    if (url.pathname.startsWith('/api/')) {
      const method = url.pathname.slice('/api/'.length);
      const args = parseArgs(raw, req.headers['content-type']);
      const call: ApiCall = { method, args, authorization, at: Date.now() };
      this.calls.push(call);
      const once = this.#once.get(method)?.shift();
      const reply = once ?? this.#answer(method, args);
      call.reply = reply.body as Record<string, unknown>;
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify(reply.body ?? {}));
      return;
    }
    if (url.pathname.startsWith('/files/') || url.pathname === '/redirect') {
      this.fileRequests.push({
        method: req.method ?? 'GET',
        path: url.pathname + url.search,
        authorization,
        at: Date.now(),
      });
      if (url.pathname === '/redirect') {
        res.writeHead(302, { location: url.searchParams.get('to') ?? '/' });
        res.end();
        return;
      }
      if (this.fileDelayMs > 0) await new Promise((r) => setTimeout(r, this.fileDelayMs));
      const name = decodeURIComponent(url.pathname.slice('/files/'.length));
      let bytes = this.hostedFiles.get(name);
      if (!bytes) {
        try {
          bytes = readFileSync(join(FIXTURES, name));
        } catch {
          res.writeHead(404);
          res.end();
          return;
        }
      }
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(bytes.byteLength),
      });
      res.end(bytes);
      return;
    }
    if (url.pathname.startsWith('/response/')) {
      this.responses.push({
        id: url.pathname.slice('/response/'.length),
        body: JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>,
        at: Date.now(),
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
      return;
    }
    if (url.pathname.startsWith('/upload/')) {
      this.uploads.push({ id: url.pathname.slice('/upload/'.length), bytes: raw.byteLength, authorization });
      res.writeHead(200);
      res.end('OK');
      return;
    }
    res.writeHead(404);
    res.end();
  }

  #answer(method: string, args: Record<string, unknown>): ApiReply {
    const handler = this.#handlers.get(method);
    if (handler) {
      const out = handler(args);
      return isReply(out) ? out : { body: out };
    }
    const ok = (body: Record<string, unknown> = {}): ApiReply => ({ body: { ok: true, ...body } });
    switch (method) {
      case 'auth.test':
        return ok({
          url: 'https://fake.slack.test/',
          team: 'Fake',
          user: 'annamalai',
          team_id: TEAM,
          user_id: BOT_USER,
          bot_id: 'B0BOT',
        });
      case 'apps.connections.open':
        return ok({ url: `ws://${this.host}/socket?ticket=${this.nextId('t')}` });
      case 'chat.postMessage': {
        const ts = this.nextTs();
        return ok({ channel: args.channel, ts, message: { text: args.text, ts } });
      }
      case 'chat.update':
        return ok({ channel: args.channel, ts: args.ts, text: args.text });
      case 'chat.postEphemeral':
        return ok({ message_ts: this.nextTs() });
      case 'conversations.history':
        return ok({ messages: this.history.get(String(args.channel)) ?? [], has_more: false });
      case 'users.info': {
        const user = this.users.get(String(args.user)) ?? { id: args.user, is_admin: false, is_owner: false };
        return ok({ user });
      }
      case 'files.info': {
        const file = this.fileInfo.get(String(args.file));
        return file ? ok({ file }) : { body: { ok: false, error: 'file_not_found' } };
      }
      case 'files.getUploadURLExternal': {
        const id = this.nextId('FUP');
        return ok({ upload_url: `${this.url}/upload/${id}`, file_id: id });
      }
      case 'files.completeUploadExternal': {
        const files = (args.files as { id: string; title?: string }[] | undefined) ?? [];
        return ok({ files: files.map((f) => ({ id: f.id, title: f.title })) });
      }
      default:
        return ok();
    }
  }
}

/** A host that is not Slack: it records every request and the Authorization header it carried. */
export class ForeignHost {
  readonly requests: HostRequest[] = [];
  readonly #server: Server;
  #port = 0;

  private constructor() {
    this.#server = createServer((req, res) => {
      this.requests.push({
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        authorization: req.headers.authorization,
        at: Date.now(),
      });
      const bytes = readFileSync(join(FIXTURES, 'speech.m4a'));
      res.writeHead(200, { 'content-length': String(bytes.byteLength) });
      res.end(bytes);
    });
  }

  static async start(): Promise<ForeignHost> {
    const host = new ForeignHost();
    // "localhost" rather than 127.0.0.1: a different host name from the fake Slack's file host.
    await new Promise<void>((resolve) => host.#server.listen(0, '127.0.0.1', resolve));
    host.#port = (host.#server.address() as AddressInfo).port;
    return host;
  }

  get url(): string {
    return `http://localhost:${this.#port}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
