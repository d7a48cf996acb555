import type { Logger } from '../../log.ts';
import type { OpenedStorage } from '../storage.ts';
import { PgAnalysisStore } from './analysis-store.ts';
import { PgBaselineStore } from './baseline-store.ts';
import { PgDatabase, type PgDatabaseOptions } from './database.ts';
import { PgDigestStore } from './digest-store.ts';
import { PgDeliveryLedger, PgJobJournal } from './durable-work.ts';
import { PgSettingsStore } from './settings-store.ts';

/** Every store on one pool of connections to the Postgres database at `url`. */
export async function openPostgresStorage(
  url: string,
  options: { readonly logger?: Logger; readonly owner?: string } & Omit<
    PgDatabaseOptions,
    'url' | 'logger'
  > = {},
): Promise<OpenedStorage> {
  const { owner, ...databaseOptions } = options;
  const db = await PgDatabase.open({ url, ...databaseOptions });
  return {
    target: db.target,
    schemaVersion: db.schemaVersion,
    results: new PgAnalysisStore(db),
    settings: new PgSettingsStore(db),
    baselines: new PgBaselineStore(db),
    digests: new PgDigestStore(db),
    jobs: new PgJobJournal(db, owner),
    deliveries: new PgDeliveryLedger(db),
    health: db.monitor,
    close: () => db.close(),
  };
}
