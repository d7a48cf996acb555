/**
 * Worker-thread entry: owns one OnnxEnsemble and runs one batch at a time for the pool.
 * Protocol in protocol.ts. Never imported by the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isAnnamalaiError, toAnnamalaiError } from '../core/errors.ts';
import { OnnxEnsemble } from './onnx.ts';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.ts';

const port = parentPort;
if (!port) throw new Error('src/inference/worker.ts must run in a worker thread');

const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
const init = workerData as WorkerInit;

try {
  const ensemble = await OnnxEnsemble.create(init.manifest, init.graphs, {
    device: init.device,
    intraOpNumThreads: init.intraOpNumThreads,
  });
  port.on('message', async (message: ToWorker) => {
    if (message.type !== 'run') return;
    try {
      const { probabilities } = await ensemble.run(message.input, message.batch);
      const width = init.manifest.labels.length;
      const flat = new Float32Array(message.batch * width);
      probabilities.forEach((row, i) => {
        flat.set(row, i * width);
      });
      post({ type: 'result', id: message.id, probabilities: flat }, [flat.buffer]);
    } catch (error) {
      const e = toAnnamalaiError(error, 'inference.failed');
      post({ type: 'error', id: message.id, code: e.code, detail: e.detail });
    }
  });
  post({ type: 'ready', device: ensemble.device });
} catch (error) {
  const e = isAnnamalaiError(error) ? error : toAnnamalaiError(error, 'model.invalid');
  post({ type: 'init-error', code: e.code, detail: e.detail });
}
