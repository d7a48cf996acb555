import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RateLimiter } from '../bots/shared/rate-limit.ts';
import { WorkQueue } from '../bots/shared/work-queue.ts';
import { inProcessAnalysis } from '../queue/in-process.ts';
import { checkExposure } from './auth.ts';
import { WebError } from './errors.ts';
import { UploadSlots, type WebJobDeps } from './job.ts';
import { Routes, sendError, type WebServerDeps } from './routes.ts';

export { type WebSettings, webSettings } from './settings.ts';

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
    analysis: deps.analysis ?? inProcessAnalysis(deps.analyzer),
    queue: deps.queue ?? new WorkQueue({ concurrency: settings.concurrency, maxQueued: settings.queueMax }),
    limiter: new RateLimiter({ client: { limit: settings.rateLimitPerMinute, windowMs: 60_000 } }),
    uploads: new UploadSlots(settings.concurrency + settings.queueMax),
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
