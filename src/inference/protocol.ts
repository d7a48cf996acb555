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
  /**
   * Voice baseline: per row, the normaliser's centre[dims] then scale[dims] ([batch, 2 × dims] row-major),
   * NaN in rows of speakers without a reliable baseline. Absent when no row has one.
   */
  readonly normalisers?: Float64Array;
};

export type FromWorker =
  | { readonly type: 'ready'; readonly device: DeviceChoice }
  | { readonly type: 'init-error'; readonly code: ErrorCode; readonly detail: string | undefined }
  /**
   * probabilities: [batch, labels] row-major; embeddings: [batch, dims], only for a model with a baseline
   * head; baseline: the baseline head's [batch, labels], NaN in rows sent without a normaliser. Transferred.
   */
  | {
      readonly type: 'result';
      readonly id: number;
      readonly probabilities: Float32Array;
      readonly embeddings?: Float32Array;
      readonly baseline?: Float32Array;
    }
  | {
      readonly type: 'error';
      readonly id: number;
      readonly code: ErrorCode;
      readonly detail: string | undefined;
    };
