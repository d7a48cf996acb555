import { openServices } from '../compose.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { startWebServer, webSettings } from './server.ts';

/** How long running analyses may take to finish after SIGINT/SIGTERM. */
const SHUTDOWN_GRACE_MS = 20_000;

/**
 * `annamalai serve`: the web page and HTTP API until SIGINT or SIGTERM. Results are stored only when a
 * database is given (`--db`); audio never is.
 */
export async function runServe(
  run: { readonly db?: string },
  config: Config,
  logger: Logger,
): Promise<number> {
  // Checked before the model loads: an exposed server without a token never starts.
  const settings = webSettings(config);
  const services = await openServices(config, logger, run.db ? { databasePath: run.db } : {});
  try {
    const server = await startWebServer({
      analyzer: services.analyzer,
      ...(services.storage && { storageHealth: services.storage.health }),
      settings,
      logger,
    });
    console.error(`Annamalai is listening on ${server.url}/ (Ctrl+C stops it)`);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    logger.info({ signal }, 'web server stopping');
    await server.close(SHUTDOWN_GRACE_MS);
    return 0;
  } finally {
    await services.close();
  }
}
