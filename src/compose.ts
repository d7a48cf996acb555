import { createAudioDecoder } from './audio/index.ts';
import { type Config, decodeLimits } from './config.ts';
import type { AnalysisQueue } from './core/analysis-queue.ts';
import type { AnalyzerDeps } from './core/analyze.ts';
import type { Clock, EmotionClassifier } from './core/ports.ts';
import { SystemClock } from './digest/clock.ts';
import { createOnnxClassifier } from './inference/index.ts';
import type { Logger } from './log.ts';
import { inProcessAnalysis } from './queue/in-process.ts';
import { openPgBossAnalysis } from './queue/pg-boss/gateway.ts';
import { modelRunElsewhere } from './queue/remote-model.ts';
import { queueSettings } from './queue/settings.ts';
import { openStorage, type StorageTarget } from './storage/open.ts';
import type { OpenedStorage, Storage } from './storage/storage.ts';

export type { Storage } from './storage/storage.ts';

export interface Services {
  readonly analyzer: AnalyzerDeps & { readonly classifier: AnalyzerDeps['classifier'] };
  /**
   * Where recordings are analysed: in this process on `analyzer` (the default), or, for a gateway with
   * QUEUE_URL, by `annamalai worker` processes (then `analyzer.classifier` is the manifest alone).
   */
  readonly analysis: AnalysisQueue;
  /** Wall time and cron schedules (the digest scheduler's). */
  readonly clock: Clock;
  /** Present when a database was given. */
  readonly storage?: Storage;
  close(): Promise<void>;
}

/** The composition root: the only place that knows which adapter fills which port (storage: src/storage/open.ts). */
export async function openServices(
  config: Config,
  logger: Logger,
  options: {
    readonly databasePath?: string;
    readonly databaseUrl?: string;
    /** 'queue': a gateway that hands recordings to workers when QUEUE_URL is set (the bots); default in-process. */
    readonly analysis?: 'in-process' | 'queue';
    /** The gateway whose accepted jobs the job journal holds (the bots: GATEWAY_ID). */
    readonly owner?: string;
  } = {},
): Promise<Services> {
  // A Postgres URL, when given, wins over a SQLite file.
  const target: StorageTarget | undefined = options.databaseUrl
    ? { kind: 'postgres', url: options.databaseUrl }
    : options.databasePath
      ? { kind: 'sqlite', path: options.databasePath }
      : undefined;
  // Opened before the model is loaded: a database that cannot be written fails the start at once
  // (AnnamalaiError 'storage.unavailable' naming the file or server and the reason).
  const storage: OpenedStorage | undefined =
    target && (await openStorage(target, { logger, ...(options.owner && { owner: options.owner }) }));
  const queue = options.analysis === 'queue' ? queueSettings(config) : undefined;
  let classifier: EmotionClassifier;
  let remote: AnalysisQueue | undefined;
  try {
    // A gateway of workers never loads the model: it reads the manifest and opens the queue.
    if (queue) {
      const gateway = await openPgBossAnalysis(queue, logger);
      remote = gateway;
      classifier = await modelRunElsewhere(config.MODEL_DIR, (segments, signal) =>
        gateway.classify(segments, signal),
      ).catch(async (error: unknown) => {
        await gateway.close();
        throw error;
      });
    } else classifier = await openClassifier(config, logger);
  } catch (error) {
    await storage?.close();
    throw error;
  }
  logger.info(
    { model: classifier.info.id, version: classifier.info.version, device: classifier.info.device },
    queue ? 'analysis by workers through the job queue' : 'emotion model loaded',
  );
  const analyzer: AnalyzerDeps = {
    decoder: createAudioDecoder({ env: ffmpegEnv(config), logger }),
    classifier,
    limits: decodeLimits(config),
    ...(storage && { store: storage.results, baselines: storage.baselines }),
  };
  const analysis = remote ?? inProcessAnalysis(analyzer);
  return {
    analyzer,
    analysis,
    clock: new SystemClock(),
    ...(storage && { storage }),
    async close() {
      await analysis.close();
      await classifier.close();
      await storage?.close();
    },
  };
}

/** The emotion model as the configuration says (also `annamalai diagnostics`, which loads it alone). */
export function openClassifier(
  config: Config,
  logger: Logger,
  options: { readonly tuned?: boolean } = { tuned: true },
): Promise<EmotionClassifier> {
  return createOnnxClassifier({
    modelDir: config.MODEL_DIR,
    device: config.INFERENCE_DEVICE,
    ...(options.tuned && config.INFERENCE_WORKERS !== undefined && { workers: config.INFERENCE_WORKERS }),
    ...(options.tuned &&
      config.INFERENCE_THREADS !== undefined && { threadsPerWorker: config.INFERENCE_THREADS }),
    logger,
  });
}

/** The environment the decoder looks for ffmpeg in, FFMPEG_PATH as the validated config has it. */
export function ffmpegEnv(config: Pick<Config, 'FFMPEG_PATH'>): NodeJS.ProcessEnv {
  const { FFMPEG_PATH: _unchecked, ...env } = process.env;
  return config.FFMPEG_PATH ? { ...env, FFMPEG_PATH: config.FFMPEG_PATH } : env;
}
