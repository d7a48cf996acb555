import { createAudioDecoder } from './audio/index.ts';
import { type Config, decodeLimits } from './config.ts';
import type { AnalyzerDeps } from './core/analyze.ts';
import type {
  AnalysisStore,
  DeliveryLedger,
  DigestStore,
  JobJournal,
  SettingsStore,
  StorageMonitor,
} from './core/ports.ts';
import { createOnnxClassifier } from './inference/index.ts';
import type { Logger } from './log.ts';
import { Database } from './storage/database.ts';
import { SqliteDeliveryLedger } from './storage/delivery-ledger.ts';
import { SqliteDigestStore } from './storage/digest-store.ts';
import { SqliteJobJournal } from './storage/job-journal.ts';
import { SqliteSettingsStore } from './storage/settings-store.ts';
import { SqliteStore } from './storage/sqlite-store.ts';

/** Every store of one database, all on its one connection. */
export interface Storage {
  readonly results: AnalysisStore;
  readonly settings: SettingsStore;
  readonly digests: DigestStore;
  readonly jobs: JobJournal;
  readonly deliveries: DeliveryLedger;
  readonly health: StorageMonitor;
}

export interface Services {
  readonly analyzer: AnalyzerDeps & { readonly classifier: AnalyzerDeps['classifier'] };
  /** Present when a database was given. */
  readonly storage?: Storage;
  close(): Promise<void>;
}

/** The composition root: the only place that knows which adapter fills which port. */
export async function openServices(
  config: Config,
  logger: Logger,
  options: { readonly databasePath?: string } = {},
): Promise<Services> {
  // Opened before the model is loaded: a database that cannot be written fails the start at once
  // (AnnamalaiError 'storage.unavailable' naming the path and the reason).
  const database = options.databasePath ? Database.open({ path: options.databasePath, logger }) : undefined;
  const storage = database && openStorage(database);
  let classifier: Awaited<ReturnType<typeof createOnnxClassifier>>;
  try {
    classifier = await createOnnxClassifier({
      modelDir: config.MODEL_DIR,
      device: config.INFERENCE_DEVICE,
      ...(config.INFERENCE_WORKERS !== undefined && { workers: config.INFERENCE_WORKERS }),
      ...(config.INFERENCE_THREADS !== undefined && { threadsPerWorker: config.INFERENCE_THREADS }),
      logger,
    });
  } catch (error) {
    await database?.close();
    throw error;
  }
  logger.info(
    { model: classifier.info.id, version: classifier.info.version, device: classifier.info.device },
    'emotion model loaded',
  );
  const analyzer: AnalyzerDeps = {
    decoder: createAudioDecoder({ env: process.env, logger }),
    classifier,
    limits: decodeLimits(config),
    ...(storage && { store: storage.results }),
  };
  return {
    analyzer,
    ...(storage && { storage }),
    async close() {
      await classifier.close();
      await database?.close();
    },
  };
}

function openStorage(database: Database): Storage {
  return {
    results: new SqliteStore(database),
    settings: new SqliteSettingsStore(database),
    digests: new SqliteDigestStore(database),
    jobs: new SqliteJobJournal(database),
    deliveries: new SqliteDeliveryLedger(database),
    health: database.monitor,
  };
}
