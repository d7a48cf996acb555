/** Public surface of src/inference (the pipeline, CLI and diagnostics import from here). */
export {
  createOnnxClassifier,
  defaultParallelism,
  loadModelInfo,
  type ModelIdentity,
  type ModelVerification,
  type OnnxClassifierOptions,
  runtimeDiagnostics,
  verifyModelFolder,
} from './classifier.ts';
export {
  type CombinationKind,
  type LoadedModel,
  loadModel,
  type ModelManifest,
  readManifest,
  verifyModelFiles,
} from './manifest.ts';
export type { DeviceChoice, DeviceSetting, RuntimeDiagnostics } from './onnx.ts';
export type { ParityCheck, ParityReport } from './parity.ts';
export { POOL_DEFAULTS, type PoolStats } from './pool.ts';
