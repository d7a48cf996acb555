import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BOMB = 'test/fixtures/audio/rate-bomb.wav';

describe('annamalai analyze on a rate-bomb WAV (a real process)', () => {
  it('the fixture is the 4 KB WAV whose header claims 4,294,967,295 Hz', () => {
    const bytes = readFileSync(BOMB);
    expect(bytes.length).toBe(4096);
    expect(bytes.readUInt32LE(24)).toBe(4_294_967_295);
  });

  it('prints audio.unsupported for the bomb, still analyses the next file, and exits', async () => {
    // Before the header bounds this process grew to 23.5 GB; the kill after 60 s only turns a hang into a failure.
    const result = await run(
      process.execPath,
      [
        'src/cli/main.ts',
        'analyze',
        '--format',
        'json',
        '--model',
        'test/fixtures/models/tiny',
        BOMB,
        'samples/hello.ogg',
      ],
      { env: { ...process.env, LOG_LEVEL: 'warn' }, timeout: 60_000, killSignal: 'SIGKILL' },
    ).then(
      ({ stdout }) => ({ code: 0, stdout, signal: null }),
      (e: { code: number; stdout: string; signal: string | null }) => e,
    );
    expect(result.signal).toBeNull();
    expect(result.code).toBe(1); // one file failed
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ file: BOMB, error: { code: 'audio.unsupported' } });
    expect(lines[0].error.message).toMatch(/4294967295 Hz/);
    expect(lines[1]).toMatchObject({ file: 'samples/hello.ogg' });
    expect(lines[1].segments.length).toBeGreaterThan(0);
  });
});
