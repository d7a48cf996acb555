import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WorkQueue } from '../bots/shared/work-queue.ts';
import type { AnalysisQueue } from '../core/analysis-queue.ts';
import type { AnalyzerDeps } from '../core/analyze.ts';
import { ERROR_CODES } from '../core/errors.ts';
import type { StorageMonitor } from '../core/ports.ts';
import { toReportJson } from '../core/report-json.ts';
import { ESTIMATE_NOTE } from '../core/summary.ts';
import type { Logger } from '../log.ts';
import { isAuthorized } from './auth.ts';
import { HTTP_STATUS, WebError } from './errors.ts';
import { setSecurityHeaders } from './headers.ts';
import { runWebJob, type WebJobDeps } from './job.ts';
import { openApiDocument } from './openapi.ts';
import type { WebSettings } from './settings.ts';
import { loadStaticAssets } from './static.ts';
import { readUpload } from './upload.ts';

/** What the server runs on (src/web/server.ts builds it). */
export interface WebServerDeps {
  readonly analyzer: AnalyzerDeps;
  /** Where recordings are analysed; by default in this process on `analyzer`. */
  readonly analysis?: AnalysisQueue;
  /** Present only when the server was started with a database. */
  readonly storageHealth?: StorageMonitor;
  readonly settings: WebSettings;
  readonly logger: Logger;
  /** The bounded work queue; by default one of WEB_WORK_CONCURRENCY running and WEB_WORK_QUEUE_MAX waiting. */
  readonly queue?: WorkQueue;
}

/** Every path the server answers: health, the API, the page's fixed files. */
export class Routes {
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
        model: {
          // A gateway of workers has only the manifest: the model is loaded where the workers run.
          state: this.#job.analysis.kind === 'workers' ? 'in workers' : 'loaded',
          id: this.#deps.analyzer.classifier.info.id,
        },
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

export function sendError(response: ServerResponse, error: WebError, allow?: string): void {
  for (const [name, value] of Object.entries(error.headers)) response.setHeader(name, value);
  if (allow) response.setHeader('allow', allow);
  sendJson(
    response,
    error.status,
    JSON.stringify({ error: { code: error.code, message: error.userMessage } }),
  );
}
