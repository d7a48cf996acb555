import { createAudioDecoder } from './audio/index.ts';
import { type Config, decodeLimits } from './config.ts';
import type { AnalyzerDeps } from './core/analyze.ts';
import { createOnnxClassifier } from './inference/index.ts';
import type { Logger } from './log.ts';
import { SqliteStore } from './storage/sqlite-store.ts';

export interface Services {
  readonly analyzer: AnalyzerDeps & { readonly classifier: AnalyzerDeps['classifier'] };
  close(): Promise<void>;
}

/** The composition root: the only place that knows which adapter fills which port. */
export async function openServices(
  config: Config,
  logger: Logger,
  options: { readonly databasePath?: string } = {},
): Promise<Services> {
  const classifier = await createOnnxClassifier({
    modelDir: config.MODEL_DIR,
    device: config.INFERENCE_DEVICE,
    ...(config.INFERENCE_WORKERS !== undefined && { workers: config.INFERENCE_WORKERS }),
    ...(config.INFERENCE_THREADS !== undefined && { threadsPerWorker: config.INFERENCE_THREADS }),
    logger,
  });
  logger.info(
    { model: classifier.info.id, version: classifier.info.version, device: classifier.info.device },
    'emotion model loaded',
  );
  const store = options.databasePath ? new SqliteStore({ path: options.databasePath }) : undefined;
  const analyzer: AnalyzerDeps = {
    decoder: createAudioDecoder({ env: process.env, logger }),
    classifier,
    limits: decodeLimits(config),
    ...(store && { store }),
  };
  return {
    analyzer,
    async close() {
      await classifier.close();
      await store?.close();
    },
  };
}
