import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { makeWav } from '../audio/helpers.ts';
import { cli } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'annamalai-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('annamalai analyze (end to end: real decoder, onnxruntime workers, SQLite)', () => {
  it('prints one JSON line per file, errors included, goes on after a bad file and exits 1', async () => {
    const { code, stdout } = await cli([
      'analyze',
      '--format',
      'json',
      'test/fixtures/audio/image.png',
      'samples/hello.ogg',
      'missing.ogg',
    ]);
    expect(code).toBe(1);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.file)).toEqual([
      'test/fixtures/audio/image.png',
      'samples/hello.ogg',
      'missing.ogg',
    ]);
    expect(lines[0].error.code).toBe('audio.unsupported');
    expect(lines[2].error).toEqual({ code: 'input.not_found', message: 'That file does not exist.' });
    const ok = lines[1];
    expect(ok.duration_s).toBeCloseTo(14.37, 1);
    expect(ok.model).toMatchObject({ id: 'annamalai-test-fixture-tiny', fixture: true });
    expect(ok.segments.map((s: { start_s: number }) => s.start_s)).toEqual([0, 5, 10]);
    for (const s of ok.segments) {
      expect(s.top).toHaveLength(3);
      expect(s.probabilities.question).toBe(0);
      const total = Object.values(s.probabilities as Record<string, number>).reduce((a, b) => a + b, 0);
      expect(total).toBeCloseTo(1, 3);
      expect(s.top[0].confidence).toBe(Math.max(...(Object.values(s.probabilities) as number[])));
    }
    expect(ok.summary.notes).toContain('Test fixture model: these numbers are not real emotion estimates.');
  });

  it('exits 0 with a readable table and stores results with --db', async () => {
    const db = join(dir, 'results.db');
    const { code, stdout, stderr } = await cli(['analyze', 'samples/hello.ogg', '--db', db]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^samples\/hello\.ogg: 14\.4 s/);
    expect(stdout).toMatch(/0:10\.0–0:14\.4/);
    expect(stderr).toMatch(/test fixture model/);
    const raw = new DatabaseSync(db);
    expect(raw.prepare('SELECT platform, source_name, status FROM analyses').all()).toEqual([
      { platform: 'cli', source_name: 'samples/hello.ogg', status: 'ok' },
    ]);
    expect(raw.prepare('SELECT COUNT(*) AS n FROM segments').get()).toEqual({ n: 3 });
    raw.close();
  });

  it('gives each bad input its own error code and analyses a video by its sound', async () => {
    const empty = join(dir, 'empty.ogg');
    writeFileSync(empty, '');
    const silence = join(dir, 'silence.wav');
    writeFileSync(
      silence,
      makeWav({
        formatTag: 1,
        channels: 1,
        sampleRate: 16_000,
        bitsPerSample: 16,
        data: new Uint8Array(96_000),
      }),
    );
    const { code, stdout } = await cli([
      'analyze',
      '--format',
      'json',
      empty,
      silence,
      'test/fixtures/audio/silence-1s.wav',
      'test/fixtures/audio/truncated.opus.ogg',
      'test/fixtures/audio/video-no-audio.mp4',
      'test/fixtures/audio/text-named-audio.ogg',
      'test/fixtures/audio/video-with-speech.mp4',
    ]);
    expect(code).toBe(1);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.error?.code ?? 'ok')).toEqual([
      'audio.empty',
      'audio.silent',
      'audio.silent',
      'audio.corrupt',
      'audio.no_audio_track',
      'audio.unsupported',
      'ok',
    ]);
    expect(lines[6].segments.length).toBeGreaterThan(0);
  });

  it('refuses a recording over MAX_DURATION_S with audio.too_long', async () => {
    const { stdout } = await cli(['analyze', '--format', 'json', 'samples/hello.ogg'], {
      MAX_DURATION_S: '10',
    });
    expect(JSON.parse(stdout).error.code).toBe('audio.too_long');
  });

  it('rejects an unknown format with usage exit code 2', async () => {
    const { code, stderr } = await cli(['analyze', '--format', 'xml', 'samples/hello.ogg']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--format must be "table" or "json"/);
  });

  it('diagnostics names the runtime, decoders and the verified fixture model', async () => {
    const { code, stdout } = await cli(['diagnostics']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/onnxruntime-node \d+\.\d+/);
    expect(stdout).toMatch(/ffmpeg: /);
    expect(stdout).toMatch(/\[TEST FIXTURE\]/);
    expect(stdout).toMatch(/sha256 verified/);
    expect(stdout).toMatch(/base models: alpha, beta \(int8\); stacked by a meta model/);
    expect(stdout).toMatch(/voice baseline: none/);
    expect(stdout).toMatch(/parity with export: ok/);
    expect(stdout).toMatch(/runs on: cpu/);
  });

  it('diagnostics verifies and runs a single-model folder and says it has no meta model', async () => {
    const { code, stdout } = await cli(['diagnostics'], { MODEL_DIR: 'test/fixtures/models/tiny-single' });
    expect(code).toBe(0);
    expect(stdout).toMatch(/annamalai-test-fixture-tiny-single/);
    expect(stdout).toMatch(/base model: alpha alone \(no meta model\)/);
    expect(stdout).toMatch(
      /voice baseline: baseline-head\.onnx over 3 dims \(mean_and_scale, k 2\), used from 2 recordings/,
    );
    expect(stdout).toMatch(/parity with export: ok/);
    expect(stdout).toMatch(/runs on: cpu/);
  });
});
