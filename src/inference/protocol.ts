/** Messages between the pool (main thread) and worker.ts. Types only. */
import type { ErrorCode } from '../core/errors.ts';
import type { EnsembleGraphs, ModelManifest } from './manifest.ts';
import type { DeviceChoice, DeviceSetting } from './onnx.ts';

export interface WorkerInit {
  readonly manifest: ModelManifest;
  /** Verified graph bytes in shared memory: base models in base_models order, and the combination. */
  readonly graphs: EnsembleGraphs;
  readonly device: DeviceSetting;
  readonly intraOpNumThreads: number;
}

export type ToWorker = {
  readonly type: 'run';
  readonly id: number;
  /** [batch, segment_samples] row-major; transferred. */
  readonly input: Float32Array;
  readonly batch: number;
};

export type FromWorker =
  | { readonly type: 'ready'; readonly device: DeviceChoice }
  | { readonly type: 'init-error'; readonly code: ErrorCode; readonly detail: string | undefined }
  /** probabilities: [batch, labels] row-major; transferred. */
  | { readonly type: 'result'; readonly id: number; readonly probabilities: Float32Array }
  | {
      readonly type: 'error';
      readonly id: number;
      readonly code: ErrorCode;
      readonly detail: string | undefined;
    };
