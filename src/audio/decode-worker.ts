/**
 * Decode worker entry (see decode-workers.ts): answers in-process decode requests one at a time.
 * Never imported by the main thread.
 */
import { parentPort } from 'node:worker_threads';
import { serveDecodes } from './in-process.ts';

if (!parentPort) throw new Error('src/audio/decode-worker.ts must run in a worker thread');
serveDecodes(parentPort);
