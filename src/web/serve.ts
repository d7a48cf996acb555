import { openServices } from '../compose.ts';
import { type Config, ConfigError } from '../config.ts';
import type { Logger } from '../log.ts';
import { databaseOption, isPostgresUrl } from '../storage/target.ts';
import { startWebServer, webSettings } from './server.ts';

/** How long running analyses may take to finish after SIGINT/SIGTERM. */
const SHUTDOWN_GRACE_MS = 20_000;

/**
 * `annamalai serve`: the web page and HTTP API until SIGINT or SIGTERM. Results are stored only when a
 * database is given (`--db`: a SQLite file or a postgres:// URL), or, with QUEUE_URL, by the workers in
 * theirs; audio never is.
 */
export async function runServe(
  run: { readonly db?: string },
  config: Config,
  logger: Logger,
): Promise<number> {
  // Checked before the model loads: an exposed server without a token never starts.
  const settings = webSettings(config);
  // With QUEUE_URL the workers analyse and store: the server needs their Postgres database (to say whether
  // it can store) and never loads the model, only its manifest.
  const db = run.db ?? (config.QUEUE_URL ? config.DATABASE_URL : undefined);
  if (config.QUEUE_URL && !(db && isPostgresUrl(db)))
    throw new ConfigError(
      "serve with QUEUE_URL needs the workers' Postgres database (--db postgres://… or DATABASE_URL): they store the results there.",
    );
  const services = await openServices(config, logger, { ...databaseOption(db), analysis: 'queue' });
  try {
    const server = await startWebServer({
      analyzer: services.analyzer,
      analysis: services.analysis,
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
