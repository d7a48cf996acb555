import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { LABELS, TINY_MODEL_DIR } from './fixture-maths.ts';

const run = promisify(execFile);
const CLASSIFIER = new URL('../../src/inference/classifier.ts', import.meta.url).href;
const dir = mkdtempSync(join(tmpdir(), 'annamalai-argv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('inference workers in a process with a long command line', () => {
  it('start and classify in a process whose command line holds 1,000 paths (≈64 kB)', async () => {
    // Any front end (CLI, bots) may run under a long command line; onnxruntime reads the process's own
    // /proc/self/cmdline when its environment is created in a worker, so the arguments are what matters.
    const paths = Array.from(
      { length: 1_000 },
      (_, i) => `/recordings/team-channel/voice-note-${String(i).padStart(6, '0')}.ogg`,
    );
    const script = `
      const { createOnnxClassifier } = await import(${JSON.stringify(CLASSIFIER)});
      const classifier = await createOnnxClassifier({ modelDir: ${JSON.stringify(TINY_MODEL_DIR)}, device: 'cpu', workers: 1, threadsPerWorker: 1 });
      const [row] = await classifier.classify([new Float32Array(80000).fill(0.25)]);
      await classifier.close();
      console.log(JSON.stringify({ args: process.argv.length - 2, width: row.length }));
    `;
    const file = join(dir, 'classify-once.mjs');
    writeFileSync(file, script);
    // Caught so that a crash reports its signal, not a 60 kB command line.
    const { signal, stdout } = await run(process.execPath, [file, ...paths], {
      env: { ...process.env, ORT_DISABLE_TELEMETRY: '' }, // as a user's shell would have it
      timeout: 25_000,
      killSignal: 'SIGKILL',
    }).then(
      ({ stdout }) => ({ signal: null, stdout }),
      (error: { signal: NodeJS.Signals | null; stdout: string }) => ({
        signal: error.signal,
        stdout: error.stdout,
      }),
    );
    expect(signal).toBeNull();
    expect(JSON.parse(stdout)).toEqual({ args: 1_000, width: LABELS.length });
  });
});
