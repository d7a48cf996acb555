import type { Logger } from '../log.ts';
import { SqliteBaselineStore } from './baseline-store.ts';
import { Database } from './database.ts';
import { SqliteDeliveryLedger } from './delivery-ledger.ts';
import { SqliteDigestStore } from './digest-store.ts';
import { SqliteJobJournal } from './job-journal.ts';
import { SqliteSettingsStore } from './settings-store.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { OpenedStorage } from './storage.ts';
import type { StorageTarget } from './target.ts';

export type { StorageTarget } from './target.ts';

/**
 * Opens, migrates and proves writable the database of `target`, with every store on it. Throws
 * AnnamalaiError('storage.unavailable') naming the file or server (never a password) and the reason.
 */
export async function openStorage(
  target: StorageTarget,
  options: {
    readonly logger?: Logger;
    /** The gateway whose jobs the journal opens and lists (GATEWAY_ID); none for the CLI, web and workers. */
    readonly owner?: string;
  } = {},
): Promise<OpenedStorage> {
  if (target.kind === 'postgres') {
    // Loaded only when asked for: a process on SQLite never loads the Postgres driver.
    const { openPostgresStorage } = await import('./postgres/index.ts');
    return openPostgresStorage(target.url, options);
  }
  const { owner, ...databaseOptions } = options;
  const database = Database.open({ path: target.path, ...databaseOptions });
  return {
    target: target.path,
    schemaVersion: database.schemaVersion,
    results: new SqliteStore(database),
    settings: new SqliteSettingsStore(database),
    baselines: new SqliteBaselineStore(database),
    digests: new SqliteDigestStore(database),
    jobs: new SqliteJobJournal(database, owner),
    deliveries: new SqliteDeliveryLedger(database),
    health: database.monitor,
    close: () => database.close(),
  };
}
