import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openBotRuntime, RuntimeConfigError } from '../../src/bots/runtime.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';

describe('scale-out configuration: clear errors before anything starts', () => {
  it('refuses a QUEUE_URL that is not a Postgres URL, and a heartbeat pg-boss would refuse, naming each', () => {
    expect(() => loadConfig({ QUEUE_URL: 'redis://127.0.0.1:6379' })).toThrow(ConfigError);
    expect(() => loadConfig({ QUEUE_URL: 'redis://127.0.0.1:6379' })).toThrow(
      /QUEUE_URL: must be a postgres/,
    );
    expect(() => loadConfig({ QUEUE_HEARTBEAT_S: '5' })).toThrow(/QUEUE_HEARTBEAT_S/);
    expect(loadConfig({ QUEUE_URL: '' }).QUEUE_URL).toBeUndefined();
  });

  it('bots with QUEUE_URL but results in a SQLite file are refused: workers could not store where they read', async () => {
    const config = loadConfig({
      QUEUE_URL: 'postgres://u:p@127.0.0.1:1/db',
      DATABASE_PATH: join(tmpdir(), `annamalai-queue-config-${process.pid}.db`),
    });
    await expect(
      openBotRuntime(config, createLogger('silent'), { concurrency: 1, maxQueued: 1 }),
    ).rejects.toThrow(RuntimeConfigError);
    await expect(
      openBotRuntime(config, createLogger('silent'), { concurrency: 1, maxQueued: 1 }),
    ).rejects.toThrow(/QUEUE_URL needs DATABASE_URL/);
  });

  it('annamalai worker without QUEUE_URL exits 2 with one line saying what it needs', () => {
    const { QUEUE_URL: _q, DATABASE_URL: _d, ...env } = process.env;
    const run = spawnSync(process.execPath, ['src/cli/main.ts', 'worker'], {
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toMatch(/^error: annamalai worker needs QUEUE_URL/);
  });
});
