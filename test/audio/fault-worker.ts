/**
 * A decode worker with injected faults, for the isolation tests: a request whose bytes contain `FAULT:<kind>`
 * misbehaves as told; every other request (and a `gate` once opened) goes to the real decoder.
 */
import { existsSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { decodeInProcess, type InProcessRequest, serveDecodes } from '../../src/audio/in-process.ts';

function fault(bytes: Uint8Array): string | undefined {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 512)).toString('latin1');
  return /FAULT:([a-z]+(?::[^\s;]+)?)/.exec(text)?.[1];
}

/** Synchronous work that never yields: what a pathological decoder loop does to its thread. */
function spinUntil(done: () => boolean): void {
  while (!done()) {
    // busy on purpose
  }
}

async function decodeWithFaults(request: InProcessRequest) {
  const kind = fault(request.bytes);
  if (kind === 'oom') {
    const hoard: number[][] = [];
    for (;;) hoard.push(Array.from({ length: 100_000 }, (_, i) => i + 0.5));
  }
  if (kind === 'exit') process.exit(7);
  if (kind === 'throw')
    setImmediate(() => {
      throw new Error('injected uncaught error');
    });
  if (kind === 'hang') spinUntil(() => false);
  if (kind?.startsWith('gate:')) {
    const gate = kind.slice('gate:'.length);
    spinUntil(() => existsSync(gate));
  }
  if (kind === 'throw') return new Promise<never>(() => {});
  return decodeInProcess(request);
}

if (!parentPort) throw new Error('fault-worker.ts must run in a worker thread');
serveDecodes(parentPort, decodeWithFaults);
