import { AnnamalaiError } from '../core/errors.ts';
import type { EmotionClassifier } from '../core/ports.ts';
import { loadModelInfo } from '../inference/index.ts';

/**
 * The model as a gateway has it when workers run it: its identity and labels from the manifest (replies,
 * charts and digests need them), no onnxruntime session. Segments it is asked to classify (audio the gateway
 * holds as PCM, e.g. Discord voice channels) go to a worker through `classify`; without one it refuses
 * with a coded error. A voice-baseline head is known by its rule only (`/emotion baseline` status): the
 * manifest's numbers suffice, so the gateway still needs nothing but the manifest.
 */
export async function modelRunElsewhere(
  modelDir: string,
  classify?: EmotionClassifier['classify'],
): Promise<EmotionClassifier> {
  const identity = await loadModelInfo(modelDir);
  const vb = identity.voiceBaseline;
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
    classify:
      classify ??
      (async () => {
        throw new AnnamalaiError('inference.failed', {
          detail: 'this gateway does not load the model (QUEUE_URL is set) and has no worker to ask',
        });
      }),
    ...(vb && {
      voiceBaseline: { runs: 'elsewhere', spec: { dims: vb.dims, minRecordings: vb.min_recordings } },
    }),
    close: async () => undefined,
  };
}
