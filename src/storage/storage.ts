import type {
  AnalysisStore,
  BaselineStore,
  DeliveryLedger,
  DigestStore,
  JobJournal,
  SettingsStore,
  StorageMonitor,
} from '../core/ports.ts';

/** Every store of one database, all on the process's one connection (SQLite) or pool (Postgres). */
export interface Storage {
  readonly results: AnalysisStore;
  readonly settings: SettingsStore;
  readonly baselines: BaselineStore;
  readonly digests: DigestStore;
  readonly jobs: JobJournal;
  readonly deliveries: DeliveryLedger;
  readonly health: StorageMonitor;
}

export interface OpenedStorage extends Storage {
  /** What logs and errors name: the file, or the server URL without its password. */
  readonly target: string;
  readonly schemaVersion: number;
  close(): Promise<void>;
}
