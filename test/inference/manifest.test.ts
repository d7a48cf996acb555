import { cp, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AnnamalaiError } from '../../src/core/errors.ts';
import { loadModelInfo, verifyModelFolder } from '../../src/inference/classifier.ts';
import { loadModel, parseManifest, readManifest } from '../../src/inference/manifest.ts';
import { TINY_MODEL_DIR, TINY_SINGLE_MODEL_DIR } from './fixture-maths.ts';

async function rejection(promise: Promise<unknown>): Promise<AnnamalaiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AnnamalaiError);
    return error as AnnamalaiError;
  }
  throw new Error('expected a rejection');
}

describe('model folder manifest', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'annamalai-model-'));
    await cp(TINY_MODEL_DIR, dir, { recursive: true });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const editManifest = async (edit: (m: Record<string, unknown>) => void) => {
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    edit(m);
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(m));
  };

  it('the fixture loads, verifies every file and says it is a fixture', async () => {
    const model = await loadModel(dir);
    expect(model.files.map((f) => f.file).sort()).toEqual([
      'alpha.onnx',
      'beta.onnx',
      'meta.onnx',
      'parity-input.f32',
    ]);
    const info = await loadModelInfo(dir);
    expect(info.fixture).toBe(true);
    expect(info.name).toMatch(/TEST FIXTURE/);
    expect(info.trainedLabels).not.toContain('question');
  });

  it('the single-model fixture (no meta_model) loads as a single model of its one base model', async () => {
    const model = await loadModel(TINY_SINGLE_MODEL_DIR);
    expect(model.combination).toEqual({ kind: 'single' });
    expect(model.base.map((g) => g.file)).toEqual(['alpha.onnx']);
    expect(model.files.map((f) => f.file).sort()).toEqual([
      'alpha.onnx',
      'baseline-head.onnx',
      'baseline-stats.f32',
      'parity-input.f32',
    ]);
    const info = await loadModelInfo(TINY_SINGLE_MODEL_DIR);
    expect(info.combination).toBe('single');
    expect((await loadModelInfo(dir)).combination).toBe('stacked');
  });

  it('without meta_model, a graph still listed in files is verified but not loaded (listed files need not be used, like parity-input.f32)', async () => {
    await editManifest((m) => {
      delete m.meta_model;
      m.base_models = (m.base_models as unknown[]).slice(0, 1);
    });
    const model = await loadModel(dir);
    expect(model.combination).toEqual({ kind: 'single' });
    expect(model.base.map((g) => g.file)).toEqual(['alpha.onnx']);
    expect(model.files.map((f) => f.file)).toContain('meta.onnx');
  });

  it('a tampered file (same size) fails its sha256 check with model.invalid naming the file', async () => {
    const path = join(dir, 'beta.onnx');
    const bytes = await readFile(path);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
    await writeFile(path, bytes);
    const error = await rejection(loadModel(dir));
    expect(error.code).toBe('model.invalid');
    expect(error.message).toMatch(/beta\.onnx fails its sha256 check/);
  });

  it('a file of the wrong size fails with model.invalid naming the file', async () => {
    await writeFile(join(dir, 'meta.onnx'), 'short');
    const error = await rejection(verifyModelFolder(dir));
    expect(error.code).toBe('model.invalid');
    expect(error.message).toMatch(/meta\.onnx has 5 bytes/);
  });

  it('a missing file fails with model.invalid naming the file', async () => {
    await unlink(join(dir, 'alpha.onnx'));
    const error = await rejection(loadModel(dir));
    expect(error.code).toBe('model.invalid');
    expect(error.message).toMatch(/alpha\.onnx is listed in the manifest but missing/);
  });

  it('a missing manifest fails with model.invalid', async () => {
    await unlink(join(dir, 'manifest.json'));
    expect((await rejection(readManifest(dir))).code).toBe('model.invalid');
  });

  it('a folder without manifest.json says so in the detail, naming the folder', async () => {
    const missing = join(dir, 'no-such-model');
    const error = await rejection(readManifest(missing));
    expect(error.code).toBe('model.invalid');
    expect(error.detail).toBe(`no manifest.json in ${missing}`);
  });

  it('manifest.json that is not JSON fails with model.invalid', () => {
    expect(() => parseManifest('{not json')).toThrow(/model.invalid: manifest.json is not valid JSON/);
  });

  it.each([
    ['wrong format', (m: Record<string, unknown>) => Object.assign(m, { format: 'other/2' }), /format/],
    [
      'wrong segment length',
      (m: Record<string, unknown>) => Object.assign(m, { segment_samples: 48_000 }),
      /segment_samples/,
    ],
    [
      'trained label not in labels',
      (m: Record<string, unknown>) => Object.assign(m, { trained_labels: ['joy'] }),
      /"joy" is not one of labels/,
    ],
    [
      'graph without a files entry',
      (m: Record<string, unknown>) =>
        Object.assign(m, { meta_model: { file: 'other.onnx', input: 'x', output: 'y' } }),
      /"other.onnx" has no entry in files/,
    ],
    [
      'path escaping the folder',
      (m: Record<string, unknown>) =>
        Object.assign(m, { files: { '../etc.onnx': { sha256: '0'.repeat(64), bytes: 1 } } }),
      /plain file name/,
    ],
    [
      'bad sha256',
      (m: Record<string, unknown>) =>
        Object.assign(m, { files: { 'meta.onnx': { sha256: 'abc', bytes: 1 } } }),
      /64 lowercase hex/,
    ],
    ['missing licence', (m: Record<string, unknown>) => delete m.licence, /licence/],
    [
      'no meta_model with two base models',
      (m: Record<string, unknown>) => delete m.meta_model,
      /base_models: without meta_model, exactly one base model is needed \(found 2\)/,
    ],
  ])('a bad manifest (%s) fails with model.invalid saying why', async (_name, edit, why) => {
    await editManifest(edit);
    const error = await rejection(readManifest(dir));
    expect(error.code).toBe('model.invalid');
    expect(error.message).toMatch(why);
  });
});
