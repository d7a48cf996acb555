import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'annamalai-cli-fail-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');
const cudaInstalled = async () => {
  const { runtimeDiagnostics } = await import('../../src/inference/classifier.ts');
  return (await runtimeDiagnostics()).cudaProvider.installed;
};

describe('annamalai analyze --db that cannot be a database', () => {
  const notADatabase = join(dir, 'notes.txt');
  writeFileSync(notADatabase, 'these are notes, not SQLite\n'.repeat(100));

  it.each([
    ['a directory', dir],
    ['a path under /proc', '/proc/x.db'],
    ['a file that is not a database', notADatabase],
  ])('%s: one line naming the path and the reason, exit 1, and the process ends', async (_, db) => {
    const { code, signal, stdout, stderr } = await cli(['analyze', '--db', db, 'samples/hello.ogg']);
    expect(signal).toBeNull(); // not killed by the harness's timeout: it exited by itself
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(lines(stderr)).toHaveLength(1);
    expect(stderr).toMatch(/^error \(storage\.unavailable\): The database could not be opened: /);
    expect(stderr).toContain(db);
  });
});

describe('annamalai usage errors exit 2 with a readable line', () => {
  it('an unknown flag names the flag, without a TypeError', async () => {
    const { code, stderr } = await cli(['analyze', '--bogus', 'samples/hello.ogg']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^error: unknown option --bogus\n/);
    expect(stderr).not.toMatch(/TypeError|ERR_PARSE_ARGS/);
  });

  it('a flag without its value says which', async () => {
    const { code, stderr } = await cli(['analyze', 'samples/hello.ogg', '--db']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--db/);
    expect(stderr).not.toMatch(/TypeError/);
  });

  it('--device gpu names the flag, not the environment variable', async () => {
    const { code, stderr } = await cli(['analyze', '--device', 'gpu', 'samples/hello.ogg']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^error: --device must be "auto", "cpu" or "cuda", not "gpu"/);
    expect(stderr).not.toMatch(/INFERENCE_DEVICE/);
  });

  it('INFERENCE_DEVICE=gpu names the environment variable, on one line', async () => {
    const { code, stderr } = await cli(['analyze', 'samples/hello.ogg'], { INFERENCE_DEVICE: 'gpu' });
    expect(code).toBe(2);
    expect(lines(stderr)).toEqual([
      expect.stringMatching(/^error: Invalid configuration: INFERENCE_DEVICE: /),
    ]);
  });
});

describe('annamalai says why the model could not be loaded', () => {
  it('--model at a missing folder: the reason in the one line, the code once', async () => {
    const { code, stderr } = await cli(['analyze', '--model', '/no/such/dir', 'samples/hello.ogg']);
    expect(code).toBe(1);
    expect(lines(stderr)).toEqual([
      'error (model.invalid): The emotion model could not be loaded: no manifest.json in /no/such/dir',
    ]);
  });

  it('--device cuda without the CUDA provider: the reason in the one line', async () => {
    if (await cudaInstalled()) return; // a CUDA host: nothing to prove here
    const { code, stderr } = await cli(['analyze', '--device', 'cuda', 'samples/hello.ogg']);
    expect(code).toBe(1);
    expect(lines(stderr)).toHaveLength(1);
    expect(stderr).toMatch(
      /^error \(model\.invalid\): The emotion model could not be loaded: .*CUDA provider is not installed/,
    );
  });

  it('diagnostics gives the same reason with the code once', async () => {
    const { code, stdout } = await cli(['diagnostics', '--model', '/no/such/dir']);
    expect(code).toBe(1);
    expect(stdout).toContain('no manifest.json in /no/such/dir');
    expect(stdout.match(/model\.invalid/g)).toHaveLength(1);
  });
});

describe('annamalai analyze output for a person at a terminal', () => {
  it('a failed file is one readable line; the structured log only with LOG_LEVEL', async () => {
    const args = ['analyze', 'test/fixtures/audio/image.png', 'missing.ogg'];
    const quiet = await cli(args);
    expect(quiet.code).toBe(1);
    expect(lines(quiet.stdout)).toEqual([
      expect.stringMatching(/^test\/fixtures\/audio\/image\.png: error \(audio\.unsupported\): /),
      'missing.ogg: error (input.not_found): That file does not exist.',
    ]);
    expect(quiet.stderr).not.toMatch(/"level"|\bat .*\.ts:\d+/); // no pino JSON, no stack trace

    const asked = await cli(args, { LOG_LEVEL: 'info' });
    expect(asked.stderr).toMatch(/"msg":"analysis failed"/);
  });

  it('the table says which device runs; the CUDA advice is left to diagnostics', async () => {
    const { stderr } = await cli(['analyze', 'samples/hello.ogg']);
    expect(stderr).toMatch(/^model: .* on (cpu|cuda)$/m);
    expect(stderr).not.toMatch(/CUDA|ONNXRUNTIME_NODE_INSTALL/);
    if (await cudaInstalled()) return;
    const diagnostics = await cli(['diagnostics']);
    expect(diagnostics.stdout).toMatch(/runs on: cpu \(.*CUDA provider is not installed/);
  });
});
