import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseCommandLine, UsageError } from '../../src/cli/args.ts';
import { FIXTURE_MODEL } from './harness.ts';

describe('annamalai serve', () => {
  it('parses --host, --port and --db, and refuses them on other commands', () => {
    expect(parseCommandLine(['serve', '--host', '::1', '--port', '9000', '--db', 'web.db'])).toEqual({
      kind: 'serve',
      db: 'web.db',
      overrides: { host: '::1', port: '9000' },
    });
    expect(() => parseCommandLine(['analyze', 'a.ogg', '--port', '9000'])).toThrow(UsageError);
    expect(() => parseCommandLine(['serve', 'a.ogg'])).toThrow(/serve takes no files/);
  });

  it('runs as a real process: says where it listens, is ready, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['bin/annamalai.js', 'serve', '--port', '0'], {
      env: { ...process.env, MODEL_DIR: FIXTURE_MODEL, LOG_LEVEL: 'warn', WEB_HOST: '127.0.0.1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let stderr = '';
        const timer = setTimeout(() => reject(new Error(`no URL within 20 s: ${stderr}`)), 20_000);
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += String(chunk);
          const found = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(stderr)?.[1];
          if (found) {
            clearTimeout(timer);
            resolve(found);
          }
        });
      });
      const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(10_000) });
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready', model: { state: 'loaded' } });
      child.kill('SIGTERM');
      await expect(exited).resolves.toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
