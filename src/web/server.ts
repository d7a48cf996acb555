import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RateLimiter } from '../bots/shared/rate-limit.ts';
import { WorkQueue } from '../bots/shared/work-queue.ts';
import type { Config } from '../config.ts';
import type { AnalyzerDeps } from '../core/analyze.ts';
import { ERROR_CODES } from '../core/errors.ts';
import type { StorageMonitor } from '../core/ports.ts';
import { toReportJson } from '../core/report-json.ts';
import { ESTIMATE_NOTE } from '../core/summary.ts';
import type { Logger } from '../log.ts';
import { checkExposure, isAuthorized } from './auth.ts';
import { HTTP_STATUS, WebError } from './errors.ts';
import { setSecurityHeaders } from './headers.ts';
import { runWebJob, type WebJobDeps } from './job.ts';
import { openApiDocument } from './openapi.ts';
import { loadStaticAssets } from './static.ts';
import { readUpload } from './upload.ts';

/** The web keys of the configuration, as the server uses them. */
export interface WebSettings {
  readonly host: string;
  readonly port: number;
  readonly token?: string;
  readonly rateLimitPerMinute: number;
  readonly uploadTimeoutMs: number;
  readonly concurrency: number;
  readonly queueMax: number;
}

export function webSettings(config: Config): WebSettings {
  checkExposure(config.WEB_HOST, config.WEB_TOKEN);
  return {
    host: config.WEB_HOST,
    port: config.WEB_PORT,
    ...(config.WEB_TOKEN !== undefined && { token: config.WEB_TOKEN }),
    rateLimitPerMinute: config.WEB_RATE_LIMIT_PER_MINUTE,
    uploadTimeoutMs: config.WEB_UPLOAD_TIMEOUT_S * 1000,
    concurrency: config.WEB_WORK_CONCURRENCY,
    queueMax: config.WEB_WORK_QUEUE_MAX,
  };
}

export interface WebServerDeps {
  readonly analyzer: AnalyzerDeps;
  /** Present only when the server was started with a database. */
  readonly storageHealth?: StorageMonitor;
  readonly settings: WebSettings;
  readonly logger: Logger;
  /** The bounded work queue; by default one of WEB_WORK_CONCURRENCY running and WEB_WORK_QUEUE_MAX waiting. */
  readonly queue?: WorkQueue;
}

export interface RunningWebServer {
  /** e.g. http://127.0.0.1:8080 */
  readonly url: string;
  /** Stops taking requests, lets running analyses finish within `graceMs`, then closes every connection. */
  close(graceMs: number): Promise<void>;
}

export async function startWebServer(deps: WebServerDeps): Promise<RunningWebServer> {
  const { settings, logger } = deps;
  checkExposure(settings.host, settings.token);
  const job: WebJobDeps = {
    analyzer: deps.analyzer,
    queue: deps.queue ?? new WorkQueue({ concurrency: settings.concurrency, maxQueued: settings.queueMax }),
    limiter: new RateLimiter({ client: { limit: settings.rateLimitPerMinute, windowMs: 60_000 } }),
    ...(deps.storageHealth && { storageHealth: deps.storageHealth }),
    logger,
  };
  const routes = new Routes(deps, job);
  const server = createServer((request, response) => {
    routes.handle(request, response).catch((error: unknown) => {
      logger.error({ err: error }, 'web request failed');
      if (!response.headersSent) sendError(response, new WebError('request.failed', { cause: error }));
      else response.destroy();
    });
  });
  // Node's own limits back up the upload timeout (which answers with a readable 408 first).
  server.headersTimeout = 20_000;
  server.requestTimeout = settings.uploadTimeoutMs + 30_000;
  await listen(server, settings.host, settings.port);
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  logger.info({ url, token: settings.token !== undefined }, 'web server listening');
  return {
    url,
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const report = await job.queue.shutdown(graceMs);
      if (report.aborted || report.abandoned) logger.warn(report, 'web analyses stopped by shutdown');
      server.closeAllConnections();
      await closed;
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

class Routes {
  readonly #deps: WebServerDeps;
  readonly #job: WebJobDeps;
  readonly #assets = loadStaticAssets();
  readonly #openApi: string;
  readonly #about: string;

  constructor(deps: WebServerDeps, job: WebJobDeps) {
    this.#deps = deps;
    this.#job = job;
    const { info } = deps.analyzer.classifier;
    this.#openApi = JSON.stringify(openApiDocument({ tokenRequired: deps.settings.token !== undefined }));
    // What the page shows besides a result: the reminder comes from the core, never copied.
    this.#about = JSON.stringify({
      model: { id: info.id, version: info.version, name: info.name, fixture: info.fixture },
      estimate_note: ESTIMATE_NOTE,
      max_input_bytes: deps.analyzer.limits.maxBytes,
      max_duration_s: deps.analyzer.limits.maxDurationSeconds,
      stores_results: deps.storageHealth !== undefined,
      // Refusals the page can make itself before uploading, in the server's words.
      messages: { 'audio.too_large': ERROR_CODES['audio.too_large'] },
    });
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    setSecurityHeaders(response);
    const url = new URL(request.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = request.method ?? 'GET';
    if (path === '/healthz') return sendJson(response, 200, '{"status":"ok"}');
    if (path === '/readyz') return this.#readiness(response);
    const api = path.startsWith('/api/');
    if (!isAuthorized(request.headers, this.#deps.settings.token)) {
      return sendError(
        response,
        new WebError('request.unauthorized', {
          headers: {
            'www-authenticate': api ? 'Bearer realm="annamalai"' : 'Basic realm="Annamalai", charset="UTF-8"',
          },
        }),
      );
    }
    if (path === '/api/v1/analyze') {
      if (method !== 'POST') return sendError(response, new WebError('request.method_not_allowed'), 'POST');
      return this.#analyze(request, response, url);
    }
    const body =
      path === '/api/v1/openapi.json'
        ? { body: this.#openApi, contentType: 'application/json' }
        : path === '/api/v1/about'
          ? { body: this.#about, contentType: 'application/json' }
          : this.#assets.get(path);
    if (!body) return sendError(response, new WebError('request.not_found'));
    if (method !== 'GET' && method !== 'HEAD') {
      return sendError(response, new WebError('request.method_not_allowed'), 'GET, HEAD');
    }
    response.writeHead(200, { 'content-type': body.contentType, 'cache-control': 'no-cache' });
    response.end(method === 'HEAD' ? undefined : body.body);
  }

  async #analyze(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    // A client that goes away stops its own upload and analysis.
    const gone = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) gone.abort(new Error('client closed the connection'));
    });
    const limits = {
      maxBytes: this.#deps.analyzer.limits.maxBytes,
      timeoutMs: this.#deps.settings.uploadTimeoutMs,
    };
    try {
      const done = await runWebJob(this.#job, {
        client: request.socket.remoteAddress ?? 'unknown',
        upload: (signal) => readUpload(request, url, limits, signal),
        signal: gone.signal,
      });
      const { result } = done;
      const status = result.status === 'ok' ? 200 : HTTP_STATUS[result.error.code];
      response.writeHead(status, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        ...(done.analysisId !== undefined && { 'x-analysis-id': done.analysisId }),
      });
      response.end(JSON.stringify(toReportJson(done.file, result, this.#deps.analyzer.classifier.info)));
    } catch (error) {
      if (!(error instanceof WebError)) throw error;
      // A body left unread (too large, too slow, refused early) is never read: the connection closes.
      if (!request.complete) response.setHeader('connection', 'close');
      sendError(response, error);
      if (!request.complete) response.on('finish', () => setTimeout(() => request.destroy(), 1000).unref());
    }
  }

  #readiness(response: ServerResponse): void {
    const database = this.#deps.storageHealth?.health().state ?? 'not configured';
    const accepting = !this.#job.queue.closing;
    const ready = accepting && database !== 'lost';
    sendJson(
      response,
      ready ? 200 : 503,
      JSON.stringify({
        status: ready ? 'ready' : 'not ready',
        model: { state: 'loaded', id: this.#deps.analyzer.classifier.info.id },
        database,
        accepting_work: accepting,
      }),
    );
  }
}

function sendJson(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(body);
}

function sendError(response: ServerResponse, error: WebError, allow?: string): void {
  for (const [name, value] of Object.entries(error.headers)) response.setHeader(name, value);
  if (allow) response.setHeader('allow', allow);
  sendJson(
    response,
    error.status,
    JSON.stringify({ error: { code: error.code, message: error.userMessage } }),
  );
}
