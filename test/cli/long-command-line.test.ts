import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES } from '../audio/helpers.ts';
import { cli, jsonLines } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'annamalai-argv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('annamalai analyze with a long command line (a shell glob over a folder of recordings)', () => {
  it('answers each of 1,000 file arguments with its own JSON line instead of crashing', async () => {
    // ≈ 60 characters a path, 60 kB of arguments: before the fix onnxruntime's telemetry crashed the
    // worker from about 13 kB on. Every fifth path is a real 2-s WAV, the others are missing files,
    // so the run stays short while both outcomes are checked in order.
    const files = Array.from({ length: 1_000 }, (_, i) =>
      join(dir, `voice-note-from-the-team-channel-${String(i).padStart(4, '0')}.wav`),
    );
    const real = new Set(files.filter((_, i) => i % 5 === 0));
    for (const file of real) copyFileSync(join(FIXTURES, 'speech-f32-16k.wav'), file);

    const { code, signal, stdout } = await cli(
      ['analyze', '--format', 'json', ...files],
      { ORT_DISABLE_TELEMETRY: '' }, // as a user's shell would have it, whatever this test process set
      { timeoutMs: 60_000 },
    );

    expect(signal).toBeNull();
    expect(code).toBe(1); // the missing files
    const lines = jsonLines(stdout);
    expect(lines.map((l) => l.file)).toEqual(files);
    for (const line of lines) {
      if (real.has(line.file as string)) {
        expect(line.error).toBeUndefined();
        expect(line.duration_s).toBeCloseTo(2, 1);
      } else {
        expect(line.error).toEqual({ code: 'input.not_found', message: 'That file does not exist.' });
      }
    }
  }, 90_000);
});
