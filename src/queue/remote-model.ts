import { AnnamalaiError } from '../core/errors.ts';
import type { EmotionClassifier } from '../core/ports.ts';
import { loadModelInfo } from '../inference/index.ts';

/**
 * What a gateway knows of the model when workers run it: its identity and labels from the manifest (replies,
 * charts and digests need them), no onnxruntime session. Classifying here is refused with a coded error:
 * every recording goes to the workers through the analysis queue.
 */
export async function modelRunElsewhere(modelDir: string): Promise<EmotionClassifier> {
  const identity = await loadModelInfo(modelDir);
  return {
    info: {
      id: identity.id,
      version: identity.version,
      name: identity.name,
      labels: identity.labels,
      trainedLabels: identity.trainedLabels,
      fixture: identity.fixture,
      device: { kind: 'cpu', reason: 'the model runs in `annamalai worker` processes (QUEUE_URL is set)' },
    },
    classify: async () => {
      throw new AnnamalaiError('inference.failed', {
        detail:
          'this gateway does not load the model (QUEUE_URL is set): only queued recordings are analysed',
      });
    },
    close: async () => undefined,
  };
}
