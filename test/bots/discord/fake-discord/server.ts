import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

/**
 * A fake Discord on 127.0.0.1, enough of it for the real discord.js Client: REST under /api/v10 (gateway
 * info, interaction callbacks, webhook edits and follow-ups, channel messages with multipart file
 * uploads), a gateway WebSocket (hello, identify → READY + GUILD_CREATE, heartbeat ACK, dispatches,
 * resume with replay) and a CDN serving registered files. Every REST call is recorded for assertions.
 * Sharded like the real one: a connection identifying as shard [id, count] is told of, and receives the
 * events of, only the servers with (server id >> 22) % count === id; DMs go to shard 0; /gateway/bot
 * recommends `recommendedShards`.
 * Like the real one, it strips attachments from server messages that do not mention the bot unless the
 * bot identified with the Message Content intent.
 */

export const MESSAGE_CONTENT_INTENT = 1 << 15;
const MANAGE_GUILD = 1n << 5n;
const BASE_PERMISSIONS = (1n << 10n) | (1n << 11n) | (1n << 31n); // view, send, use application commands

const DISCORD_EPOCH = 1_420_070_400_000n;
let increment = 0n;
/** Real-shaped ids: discord.js reads creation times (interaction token age) from them. */
export function snowflake(at: number = Date.now()): string {
  increment = (increment + 1n) % 4096n;
  return (((BigInt(at) - DISCORD_EPOCH) << 22n) | (1n << 17n) | increment).toString();
}

export interface RecordedFile {
  readonly field: string;
  readonly name: string;
  readonly size: number;
  readonly contentType: string;
  readonly bytes: Uint8Array;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: Record<string, unknown> | undefined;
  readonly files: readonly RecordedFile[];
  readonly at: number;
  readonly authorization: string | undefined;
  /** The status the fake answered. */
  status: number;
  /** The body it answered with (a posted message: the message, with the id it got). */
  response?: unknown;
}

export interface FakeUser {
  readonly id: string;
  readonly username: string;
  readonly bot?: boolean;
}

export interface FakeAttachmentSpec {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly contentType?: string;
  /** Declared size, when it should differ from the real one. */
  readonly declaredSize?: number;
  readonly durationSecs?: number;
}

type Json = Record<string, unknown>;

/** A server of the fake: one text and one voice channel. */
export interface FakeGuild {
  readonly id: string;
  readonly textChannelId: string;
  readonly voiceChannelId: string;
}

/** Discord's rule: the shard that receives a server's events. */
export function shardOf(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

/** One gateway session: a connection that identified as a shard, its sequence and what it was sent. */
interface Session {
  socket: WebSocket | undefined;
  readonly id: string;
  readonly shard: number;
  seq: number;
  /** Every dispatch of the session, for replay on resume. */
  readonly sent: { s: number; payload: Json }[];
}

export class FakeDiscord extends EventEmitter {
  readonly botUser: FakeUser = { id: snowflake(), username: 'Annamalai', bot: true };
  readonly applicationId = snowflake();
  readonly guildId = snowflake();
  readonly textChannelId = snowflake();
  readonly voiceChannelId = snowflake();
  /** Every server, the default one (guildId, textChannelId, voiceChannelId) first. */
  readonly guilds: FakeGuild[] = [
    { id: this.guildId, textChannelId: this.textChannelId, voiceChannelId: this.voiceChannelId },
  ];
  readonly requests: RecordedRequest[] = [];
  readonly gatewaySends: Json[] = [];
  readonly users = new Map<string, FakeUser>();
  /** The application's owner: GET /applications/@me names them; the bot can DM them. */
  readonly owner: FakeUser = { id: snowflake(), username: 'owner' };
  readonly #faults: {
    match: (r: { method: string; path: string }) => boolean;
    status: number;
    code: number;
  }[] = [];
  readonly #files = new Map<string, { bytes: Uint8Array; contentType: string }>();
  readonly #rateLimits: { match: (r: { method: string; path: string }) => boolean; retryAfter: number }[] =
    [];
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  /** The live session of each shard id. */
  readonly #sessions = new Map<number, Session>();
  /** The shard count of the last IDENTIFY (1 before any). */
  #shardCount = 1;
  #port = 0;
  #cdnGate: Promise<void> | undefined;
  identifyIntents = -1;
  identifies = 0;
  resumes = 0;
  voiceStates: Json[] = [];
  /** The shard whose connection sent each of `voiceStates` (the bot joins a server's voice over its shard). */
  readonly voiceStateShards: (number | undefined)[] = [];
  /** The `shard` field of every IDENTIFY ([id, count]; [0, 1] when absent). */
  readonly identifiedShards: [number, number][] = [];
  /** Which shard each dispatch went to, in order, and whether that shard was connected then. */
  readonly dispatched: { readonly t: string; readonly shard: number; readonly delivered: boolean }[] = [];
  /** What GET /gateway/bot recommends. */
  readonly recommendedShards: number;

  constructor(options: { readonly recommendedShards?: number } = {}) {
    super();
    this.recommendedShards = options.recommendedShards ?? 1;
    this.#server = createServer((req, res) => {
      void this.#handle(req, res).catch((error) => {
        res.statusCode = 500;
        res.end(JSON.stringify({ message: String(error) }));
      });
    });
    this.#wss = new WebSocketServer({ noServer: true });
    this.#server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/gateway')) return socket.destroy();
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onSocket(ws));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.#port}`;
  }
  get apiUrl(): string {
    return `${this.origin}/api`;
  }
  get cdnHost(): string {
    return `127.0.0.1:${this.#port}`;
  }

  async close(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    this.#wss.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** A new server; on shard `on.id` of `on.count` when given. */
  addGuild(on?: { readonly id: number; readonly count: number }): FakeGuild {
    const now = Date.now();
    // A snowflake's bits above 22 are its milliseconds since the Discord epoch: pick the millisecond.
    const at = on ? now - Number((BigInt(now) - DISCORD_EPOCH - BigInt(on.id)) % BigInt(on.count)) : now;
    const guild = { id: snowflake(at), textChannelId: snowflake(), voiceChannelId: snowflake() };
    this.guilds.push(guild);
    return guild;
  }

  user(username: string): FakeUser {
    const u = { id: snowflake(), username };
    this.users.set(u.id, u);
    return u;
  }

  /** The next `times` requests matching answer `status` with Discord error `code` (5xx: discord.js retries). */
  failNext(method: string, pathPattern: RegExp, status: number, times = 1, code = 0): void {
    for (let i = 0; i < times; i++)
      this.#faults.push({ match: (r) => r.method === method && pathPattern.test(r.path), status, code });
  }

  clearFaults(): void {
    this.#faults.length = 0;
  }

  // ---- CDN ----

  attachment(spec: FakeAttachmentSpec): Json {
    const id = snowflake();
    const path = `/attachments/${this.textChannelId}/${id}/${encodeURIComponent(spec.name)}`;
    const contentType = spec.contentType ?? 'application/octet-stream';
    this.#files.set(path, { bytes: spec.bytes, contentType });
    return {
      id,
      filename: spec.name,
      size: spec.declaredSize ?? spec.bytes.byteLength,
      url: `${this.origin}${path}`,
      proxy_url: `${this.origin}${path}`,
      content_type: contentType,
      ...(spec.durationSecs !== undefined ? { duration_secs: spec.durationSecs, waveform: 'AAAA' } : {}),
    };
  }

  // ---- failure injection ----

  /** CDN downloads hang until the returned function is called (work "in flight" for as long as needed). */
  holdCdn(): () => void {
    let release = () => {};
    this.#cdnGate = new Promise<void>((resolve) => {
      release = () => {
        this.#cdnGate = undefined;
        resolve();
      };
    });
    return release;
  }

  /** The next REST request matching answers 429 with this retry-after (seconds). */
  rateLimitNext(method: string, pathPattern: RegExp, retryAfterSeconds: number): void {
    this.#rateLimits.push({
      match: (r) => r.method === method && pathPattern.test(r.path),
      retryAfter: retryAfterSeconds,
    });
  }

  /** Closes every gateway socket with a resumable code; the client resumes and gets what it missed. */
  dropGateway(code = 4000): void {
    for (const session of this.#sessions.values()) {
      session.socket?.close(code, 'fake drop');
      session.socket = undefined;
    }
  }

  // ---- dispatches ----

  /** To the shard of the event's server (DMs and events without a server: shard 0). */
  dispatch(t: string, d: Json): void {
    const shard = typeof d.guild_id === 'string' ? shardOf(d.guild_id, this.#shardCount) : 0;
    const session = this.#sessions.get(shard);
    this.dispatched.push({ t, shard, delivered: session?.socket !== undefined });
    if (session) this.#send(session, t, d);
  }

  #send(session: Session, t: string, d: Json): void {
    const s = ++session.seq;
    const payload = { op: 0, t, s, d };
    session.sent.push({ s, payload });
    session.socket?.send(JSON.stringify(payload));
  }

  member(user: FakeUser, admin = false): Json {
    return {
      user: userJson(user),
      roles: [],
      joined_at: new Date(0).toISOString(),
      deaf: false,
      mute: false,
      flags: 0,
      permissions: String(admin ? BASE_PERMISSIONS | MANAGE_GUILD : BASE_PERMISSIONS),
    };
  }

  message(options: {
    author: FakeUser;
    guild?: boolean;
    channelId?: string;
    content?: string;
    attachments?: Json[];
    voice?: boolean;
    mentionsBot?: boolean;
    /** The server it is posted in (its text channel unless `channelId`); default the default server. */
    in?: FakeGuild;
  }): Json {
    const guild = options.guild ?? true;
    const server = options.in ?? this.guilds[0];
    return {
      id: snowflake(),
      type: 0,
      channel_id: options.channelId ?? server?.textChannelId,
      // Discord adds the channel type to MESSAGE_CREATE; discord.js needs it to build an uncached DM channel.
      channel_type: guild ? 0 : 1,
      ...(guild ? { guild_id: server?.id, member: this.member(options.author) } : {}),
      author: userJson(options.author),
      content: options.content ?? '',
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: options.mentionsBot ? [userJson(this.botUser)] : [],
      mention_roles: [],
      attachments: options.attachments ?? [],
      embeds: [],
      pinned: false,
      flags: options.voice ? 1 << 13 : 0,
      components: [],
    };
  }

  /** A DM channel between the bot and `user`. */
  dmChannel(user: FakeUser): string {
    return `${BigInt(user.id) + 7n}`;
  }

  /** Dispatches MESSAGE_CREATE, stripping content and attachments as Discord does without the intent. */
  sendMessage(message: Json): Json {
    const isGuild = 'guild_id' in message;
    const mentionsBot = (message.mentions as Json[]).some((m) => m.id === this.botUser.id);
    const visible =
      !isGuild || mentionsBot || (this.identifyIntents & MESSAGE_CONTENT_INTENT) === MESSAGE_CONTENT_INTENT;
    const d = visible ? message : { ...message, content: '', attachments: [], embeds: [], components: [] };
    this.dispatch('MESSAGE_CREATE', d);
    return d;
  }

  interaction(options: {
    user: FakeUser;
    admin?: boolean;
    guild?: boolean;
    type?: number;
    data: Json;
    message?: Json;
    /** When Discord created it (its id encodes it): lets tests age the 15-minute interaction token. */
    createdAt?: number;
    /** The server it comes from (its text channel); default the default server. */
    in?: FakeGuild;
  }): { id: string; token: string; payload: Json } {
    const id = snowflake(options.createdAt);
    const token = `itoken-${id}`;
    const guild = options.guild ?? true;
    const server = options.in ?? (this.guilds[0] as FakeGuild);
    const channelId = guild ? server.textChannelId : this.dmChannel(options.user);
    const payload: Json = {
      id,
      application_id: this.applicationId,
      type: options.type ?? 2,
      token,
      version: 1,
      data: options.data,
      channel_id: channelId,
      channel: guild
        ? {
            id: channelId,
            type: 0,
            guild_id: server.id,
            name: 'general',
            permission_overwrites: [],
            position: 0,
          }
        : { id: channelId, type: 1, recipients: [userJson(options.user)] },
      ...(guild
        ? {
            guild_id: server.id,
            guild_locale: 'en-US',
            member: this.member(options.user, options.admin ?? false),
          }
        : { user: userJson(options.user) }),
      ...(options.message ? { message: options.message } : {}),
      app_permissions: String(BASE_PERMISSIONS | (1n << 15n)),
      locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': server.id },
      context: guild ? 0 : 1,
      attachment_size_limit: 10 * 1024 * 1024,
    };
    this.dispatch('INTERACTION_CREATE', payload);
    return { id, token, payload };
  }

  /** `/emotion <sub>` with options (already in API form) and resolved data. */
  slash(
    user: FakeUser,
    sub: string,
    options: Json[] = [],
    extra: { admin?: boolean; guild?: boolean; resolved?: Json; createdAt?: number; in?: FakeGuild } = {},
  ) {
    return this.interaction({
      user,
      ...(extra.in !== undefined ? { in: extra.in } : {}),
      ...(extra.createdAt !== undefined ? { createdAt: extra.createdAt } : {}),
      ...(extra.admin !== undefined ? { admin: extra.admin } : {}),
      ...(extra.guild !== undefined ? { guild: extra.guild } : {}),
      data: {
        id: snowflake(),
        name: 'emotion',
        type: 1,
        options: [{ type: 1, name: sub, options }],
        ...(extra.resolved ? { resolved: extra.resolved } : {}),
      },
    });
  }

  fileCommand(user: FakeUser, attachment: Json, extra: { createdAt?: number } = {}) {
    return this.slash(user, 'file', [{ type: 11, name: 'audio', value: attachment.id }], {
      resolved: { attachments: { [String(attachment.id)]: attachment } },
      ...extra,
    });
  }

  contextMenu(user: FakeUser, target: Json) {
    return this.interaction({
      user,
      data: {
        id: snowflake(),
        name: 'Analyze emotions',
        type: 3,
        target_id: target.id,
        resolved: { messages: { [String(target.id)]: target } },
      },
    });
  }

  button(user: FakeUser, customId: string, message: Json) {
    return this.interaction({ user, type: 3, data: { custom_id: customId, component_type: 2 }, message });
  }

  // ---- assertions helpers ----

  /** Requests to a token's interaction callback and webhook routes (edits, follow-ups, deletes). */
  forInteraction(token: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.includes(`/${token}`) && r.status < 400);
  }

  /** Bot messages posted to a channel (POST) and their edits (PATCH), accepted ones only. */
  channelRequests(channelId: string): RecordedRequest[] {
    return this.requests.filter(
      (r) => r.path.startsWith(`/api/v10/channels/${channelId}/messages`) && r.status < 400,
    );
  }

  async waitFor<T>(probe: () => T | undefined | false, timeoutMs = 20_000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline)
        throw new Error(
          `timed out waiting for ${what}; requests: ${this.requests.map((r) => `${r.method} ${r.path} ${r.status}`).join(', ')}`,
        );
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.off('request', wake);
          resolve();
        };
        const timer = setTimeout(wake, 200);
        this.on('request', wake);
      });
    }
  }

  // ---- gateway ----

  #onSocket(ws: WebSocket): void {
    let session: Session | undefined;
    ws.on('close', () => {
      if (session?.socket === ws) session.socket = undefined;
    });
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 41_250 } }));
    ws.on('message', (raw) => {
      const payload = JSON.parse(String(raw)) as { op: number; d: Json };
      this.gatewaySends.push(payload);
      switch (payload.op) {
        case 1:
          ws.send(JSON.stringify({ op: 11 }));
          break;
        case 2: {
          this.identifies++;
          this.identifyIntents = Number(payload.d.intents);
          const [id, count] = Array.isArray(payload.d.shard) ? payload.d.shard.map(Number) : [0, 1];
          const shard: [number, number] = [id ?? 0, count ?? 1];
          this.identifiedShards.push(shard);
          this.#shardCount = shard[1];
          // A new session of this shard replaces the old one, as on Discord.
          const old = this.#sessions.get(shard[0]);
          if (old?.socket && old.socket !== ws) old.socket.terminate();
          session = { socket: ws, id: `session-${snowflake()}`, shard: shard[0], seq: 0, sent: [] };
          this.#sessions.set(shard[0], session);
          const mine = this.guilds.filter((g) => shardOf(g.id, shard[1]) === shard[0]);
          this.#send(session, 'READY', {
            v: 10,
            user: userJson(this.botUser),
            guilds: mine.map((g) => ({ id: g.id, unavailable: true })),
            session_id: session.id,
            resume_gateway_url: `ws://127.0.0.1:${this.#port}/gateway`,
            shard,
            application: { id: this.applicationId, flags: 0 },
          });
          for (const guild of mine) this.#send(session, 'GUILD_CREATE', this.#guild(guild));
          break;
        }
        case 6: {
          this.resumes++;
          const found = [...this.#sessions.values()].find((x) => x.id === payload.d.session_id);
          if (!found) {
            ws.send(JSON.stringify({ op: 9, d: false }));
            break;
          }
          if (found.socket && found.socket !== ws) found.socket.terminate();
          found.socket = ws;
          session = found;
          const after = Number(payload.d.seq);
          for (const { s, payload: p } of found.sent) if (s > after) ws.send(JSON.stringify(p));
          const s = ++found.seq;
          const resumed = { op: 0, t: 'RESUMED', s, d: {} };
          ws.send(JSON.stringify(resumed));
          this.emit('resumed');
          break;
        }
        case 4:
          this.voiceStates.push(payload.d);
          this.voiceStateShards.push(session?.shard);
          this.emit('voice-state', payload.d);
          break;
        default:
          break;
      }
    });
  }

  #guild(guild: FakeGuild): Json {
    return {
      id: guild.id,
      name: 'Fake Guild',
      icon: null,
      owner_id: snowflake(),
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      features: [],
      mfa_level: 0,
      system_channel_flags: 0,
      premium_tier: 0,
      preferred_locale: 'en-US',
      nsfw_level: 0,
      large: false,
      unavailable: false,
      member_count: 3,
      joined_at: new Date(0).toISOString(),
      roles: [
        {
          id: guild.id,
          name: '@everyone',
          permissions: String(BASE_PERMISSIONS),
          position: 0,
          color: 0,
          hoist: false,
          managed: false,
          mentionable: false,
          flags: 0,
        },
      ],
      emojis: [],
      stickers: [],
      channels: [
        { id: guild.textChannelId, type: 0, name: 'general', position: 0, permission_overwrites: [] },
        {
          id: guild.voiceChannelId,
          type: 2,
          name: 'Voice',
          position: 1,
          permission_overwrites: [],
          bitrate: 64000,
          user_limit: 0,
        },
      ],
      threads: [],
      members: [this.member(this.botUser)],
      voice_states: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }

  // ---- REST ----

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    if (method === 'GET' && url.pathname.startsWith('/attachments/')) {
      this.emit('cdn', url.pathname);
      if (this.#cdnGate) await this.#cdnGate;
      const file = this.#files.get(url.pathname);
      if (!file) return send(res, 404, { message: 'Not Found' });
      res.writeHead(200, {
        'content-type': file.contentType,
        'content-length': String(file.bytes.byteLength),
      });
      res.end(file.bytes);
      return;
    }
    const { json, files } = await parseBody(req, body);
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      body: json,
      files,
      at: Date.now(),
      authorization: req.headers.authorization,
      status: 200,
    };
    this.requests.push(record);
    const limit = this.#rateLimits.findIndex((r) => r.match({ method, path: url.pathname }));
    if (limit >= 0) {
      const [rule] = this.#rateLimits.splice(limit, 1);
      record.status = 429;
      res.writeHead(429, {
        'content-type': 'application/json',
        'retry-after': String(rule?.retryAfter ?? 1),
        'x-ratelimit-scope': 'user',
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset-after': String(rule?.retryAfter ?? 1),
        'x-ratelimit-bucket': 'fake-bucket',
      });
      res.end(
        JSON.stringify({
          message: 'You are being rate limited.',
          retry_after: rule?.retryAfter ?? 1,
          global: false,
        }),
      );
      this.emit('request', record);
      return;
    }
    const fault = this.#faults.findIndex((f) => f.match({ method, path: url.pathname }));
    if (fault >= 0) {
      const [f] = this.#faults.splice(fault, 1);
      record.status = f?.status ?? 500;
      send(res, record.status, { message: 'fake discord: injected failure', code: f?.code ?? 0 });
      this.emit('request', record);
      return;
    }
    const answer = this.#route(method, url.pathname, json, files);
    record.status = answer.status;
    record.response = answer.body;
    if (answer.status === 204) {
      res.writeHead(204);
      res.end();
    } else send(res, answer.status, answer.body);
    this.emit('request', record);
  }

  #route(
    method: string,
    path: string,
    json: Json | undefined,
    files: readonly RecordedFile[],
  ): { status: number; body?: unknown } {
    const p = path.replace(/^\/api\/v\d+/, '');
    const apps = p.match(/^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/);
    const hook = p.match(/^\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/(@original|%40original|\d+))?$/);
    const msgs = p.match(/^\/channels\/(\d+)\/messages(?:\/(\d+))?$/);
    const chan = p.match(/^\/channels\/(\d+)$/);
    if (method === 'GET' && (p === '/gateway/bot' || p === '/gateway')) {
      return {
        status: 200,
        body: {
          url: `ws://127.0.0.1:${this.#port}/gateway`,
          shards: this.recommendedShards,
          session_start_limit: { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: 1 },
        },
      };
    }
    if (method === 'PUT' && apps) {
      const commands = Array.isArray(json) ? (json as Json[]) : [];
      return {
        status: 200,
        body: commands.map((c) => ({ ...c, id: snowflake(), application_id: apps[1], version: snowflake() })),
      };
    }
    if (method === 'POST' && /^\/interactions\/\d+\/[^/]+\/callback$/.test(p)) return { status: 204 };
    if (hook) {
      if (method === 'DELETE') return { status: 204 };
      return { status: 200, body: this.#botMessage(this.textChannelId, json, files) };
    }
    if (msgs) {
      if (method === 'DELETE') return { status: 204 };
      return { status: 200, body: this.#botMessage(msgs[1] as string, json, files, msgs[2]) };
    }
    if (method === 'POST' && /^\/channels\/\d+\/typing$/.test(p)) return { status: 204 };
    if (method === 'GET' && p === '/applications/@me')
      return {
        status: 200,
        body: {
          id: this.applicationId,
          name: 'Annamalai',
          icon: null,
          description: '',
          bot_public: true,
          bot_require_code_grant: false,
          verify_key: 'fake',
          flags: 0,
          owner: userJson(this.owner),
          team: null,
        },
      };
    if (method === 'POST' && p === '/users/@me/channels') {
      const id = String(json?.recipient_id ?? '');
      const user = id === this.owner.id ? this.owner : this.users.get(id);
      if (!user) return { status: 404, body: { message: 'Unknown User', code: 10013 } };
      return { status: 200, body: { id: this.dmChannel(user), type: 1, recipients: [userJson(user)] } };
    }
    if (method === 'GET' && chan) {
      const id = chan[1] as string;
      const guild = this.guilds.find((g) => id === g.textChannelId || id === g.voiceChannelId);
      if (guild)
        return {
          status: 200,
          body: {
            id,
            type: id === guild.textChannelId ? 0 : 2,
            guild_id: guild.id,
            name: 'general',
            permission_overwrites: [],
            position: 0,
          },
        };
      const dmUser = [...this.users.values()].find((u) => this.dmChannel(u) === id);
      if (dmUser) return { status: 200, body: { id, type: 1, recipients: [userJson(dmUser)] } };
      return { status: 404, body: { message: 'Unknown Channel', code: 10003 } };
    }
    return { status: 404, body: { message: `fake discord: no route ${method} ${p}`, code: 0 } };
  }

  #botMessage(channelId: string, json: Json | undefined, files: readonly RecordedFile[], id?: string): Json {
    return {
      id: id ?? snowflake(),
      type: 0,
      channel_id: channelId,
      author: userJson(this.botUser),
      content: typeof json?.content === 'string' ? json.content : '',
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: files.map((f) => ({
        id: snowflake(),
        filename: f.name,
        size: f.size,
        url: `${this.origin}/x/${f.name}`,
        proxy_url: `${this.origin}/x/${f.name}`,
      })),
      embeds: Array.isArray(json?.embeds) ? json.embeds : [],
      pinned: false,
      flags: typeof json?.flags === 'number' ? json.flags : 0,
      components: [],
    };
  }
}

function userJson(u: FakeUser): Json {
  return {
    id: u.id,
    username: u.username,
    discriminator: '0',
    global_name: u.username,
    avatar: null,
    bot: u.bot ?? false,
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body ?? {}));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function parseBody(
  req: IncomingMessage,
  body: Buffer,
): Promise<{ json: Json | undefined; files: RecordedFile[] }> {
  const type = req.headers['content-type'] ?? '';
  if (body.length === 0) return { json: undefined, files: [] };
  if (type.startsWith('application/json'))
    return { json: JSON.parse(body.toString('utf8')) as Json, files: [] };
  // (an array body, as PUT commands sends, is kept as is under the Json type)
  if (type.startsWith('multipart/form-data')) {
    const form = await new Request('http://fake/', {
      method: 'POST',
      headers: { 'content-type': type },
      body,
    }).formData();
    let json: Json | undefined;
    const files: RecordedFile[] = [];
    for (const [field, value] of form.entries()) {
      if (typeof value === 'string') {
        if (field === 'payload_json') json = JSON.parse(value) as Json;
      } else {
        const bytes = new Uint8Array(await value.arrayBuffer());
        files.push({ field, name: value.name, size: bytes.byteLength, contentType: value.type, bytes });
      }
    }
    return { json, files };
  }
  return { json: undefined, files: [] };
}
