/**
 * Test-only worker entry: the real worker, except that a batch whose first sample is a sentinel
 * kills the thread (process.exit inside a worker ends only that thread), throws uncaught, or hangs.
 */
import { parentPort } from 'node:worker_threads';

const EXIT_SENTINEL = 123.25; // mirrored in pool.test.ts
const THROW_SENTINEL = 456.5;
const HANG_SENTINEL = 789.75;

parentPort?.on('message', (message: { type: string; input?: Float32Array }) => {
  if (message.type !== 'run') return;
  if (message.input?.[0] === EXIT_SENTINEL) process.exit(7);
  if (message.input?.[0] === THROW_SENTINEL) throw new Error('injected worker failure');
  if (message.input?.[0] === HANG_SENTINEL) for (;;) {} // a hung onnxruntime call, as far as the pool can tell
});

await import('../../src/inference/worker.ts');
