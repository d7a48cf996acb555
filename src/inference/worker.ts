/**
 * Worker-thread entry: owns one OnnxEnsemble and runs one batch at a time for the pool.
 * Protocol in protocol.ts. Never imported by the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { normalise } from '../core/baseline.ts';
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
      const output = await ensemble.run(message.input, message.batch);
      const { probabilities } = output;
      // A copy with its own buffer, so it can be transferred.
      const embeddings = output.embeddings?.slice();
      const width = init.manifest.labels.length;
      const flat = new Float32Array(message.batch * width);
      probabilities.forEach((row, i) => {
        flat.set(row, i * width);
      });
      const baseline =
        embeddings && message.normalisers
          ? await baselineRows(ensemble, embeddings, message.normalisers, message.batch, width)
          : undefined;
      const extra = [embeddings, baseline].flatMap((a) => (a ? [a.buffer as ArrayBuffer] : []));
      post(
        {
          type: 'result',
          id: message.id,
          probabilities: flat,
          ...(embeddings && { embeddings }),
          ...(baseline && { baseline }),
        },
        [flat.buffer, ...extra],
      );
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

/** The baseline head's probabilities for the rows that came with a normaliser ([batch, labels], NaN elsewhere). */
async function baselineRows(
  ensemble: OnnxEnsemble,
  embeddings: Float32Array,
  normalisers: Float64Array,
  batch: number,
  width: number,
): Promise<Float32Array> {
  const dims = embeddings.length / batch;
  const rows: number[] = [];
  for (let r = 0; r < batch; r++) if (!Number.isNaN(normalisers[r * 2 * dims])) rows.push(r);
  const out = new Float32Array(batch * width).fill(Number.NaN);
  if (rows.length === 0) return out;
  const z = new Float32Array(rows.length * dims);
  rows.forEach((r, i) => {
    const n = normalisers.subarray(r * 2 * dims, (r + 1) * 2 * dims);
    const e = embeddings.subarray(r * dims, (r + 1) * dims);
    z.set(normalise(e, { centre: n.subarray(0, dims), scale: n.subarray(dims) }), i * dims);
  });
  const probabilities = await ensemble.runHead(z, rows.length);
  rows.forEach((r, i) => {
    out.set(probabilities[i] ?? new Float32Array(width).fill(Number.NaN), r * width);
  });
  return out;
}
