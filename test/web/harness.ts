import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkQueue } from '../../src/bots/shared/work-queue.ts';
import { openServices, type Services } from '../../src/compose.ts';
import { loadConfig } from '../../src/config.ts';
import type { DecodeLimits } from '../../src/core/ports.ts';
import { type RunningWebServer, startWebServer, type WebSettings } from '../../src/web/server.ts';
import { captureLogs } from '../support/logs.ts';

export const FIXTURE_MODEL = 'test/fixtures/models/tiny';
export const FIXTURES = 'test/fixtures/audio';

/** Real services (onnxruntime on the fixture model, the real decoder; SQLite when asked), per test file. */
export interface WebWorld {
  readonly services: Services;
  readonly logs: string[];
  /** A server on 127.0.0.1, port 0, with these settings and limits; stopped by close(). */
  start(options?: {
    readonly settings?: Partial<WebSettings>;
    readonly limits?: Partial<DecodeLimits>;
    readonly queue?: WorkQueue;
  }): Promise<RunningWebServer>;
  close(): Promise<void>;
}

export async function openWebWorld(options: { readonly database?: boolean } = {}): Promise<WebWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'annamalai-web-'));
  const { logs, logger } = captureLogs();
  const config = loadConfig({
    MODEL_DIR: FIXTURE_MODEL,
    INFERENCE_WORKERS: '1',
    INFERENCE_THREADS: '1',
    LOG_LEVEL: 'info',
  });
  const services = await openServices(
    config,
    logger,
    options.database ? { databasePath: join(dir, 'web.db') } : {},
  );
  const servers: RunningWebServer[] = [];
  return {
    services,
    logs,
    async start(overrides = {}) {
      const server = await startWebServer({
        analyzer: { ...services.analyzer, limits: { ...services.analyzer.limits, ...overrides.limits } },
        ...(services.storage && { storageHealth: services.storage.health }),
        settings: {
          host: '127.0.0.1',
          port: 0,
          rateLimitPerMinute: 1000,
          uploadTimeoutMs: 30_000,
          concurrency: 1,
          queueMax: 20,
          ...overrides.settings,
        },
        logger,
        ...(overrides.queue && { queue: overrides.queue }),
      });
      servers.push(server);
      return server;
    },
    async close() {
      await Promise.all(servers.map((s) => s.close(1000)));
      await services.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
