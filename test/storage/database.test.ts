import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StorageHealth } from '../../src/core/ports.ts';
import type { AnalysisRecord } from '../../src/core/records.ts';
import { Database } from '../../src/storage/database.ts';
import { SqliteSettingsStore } from '../../src/storage/settings-store.ts';
import { SqliteStore } from '../../src/storage/sqlite-store.ts';
import { captureLogs } from '../support/logs.ts';

let dir: string;
let cleanup: (() => Promise<void> | void)[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'annamalai-db-'));
  chmodSync(dir, 0o755);
});
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
  rmSync(dir, { recursive: true, force: true });
});

const record = (): AnalysisRecord => ({
  platform: 'discord',
  userId: 'u1',
  durationS: 5,
  model: { id: 'm', version: '1' },
  createdAt: new Date('2026-12-01T10:00:00Z'),
  outcome: { status: 'ok', segments: [{ kind: 'silence', index: 0, startS: 0, endS: 5 }] },
});

function open(path: string, options: { lockWaitMs?: number; checkIntervalMs?: number } = {}) {
  const { logs, logger } = captureLogs();
  const database = Database.open({ path, logger, ...options });
  cleanup.push(() => database.close());
  return { database, logs };
}

function lines(proc: ChildProcessWithoutNullStreams): (text: string) => Promise<string> {
  let out = '';
  const waiters: (() => void)[] = [];
  proc.stdout.on('data', (d) => {
    out += String(d);
    for (const w of waiters.splice(0)) w();
  });
  return async (text) => {
    while (!out.includes(text)) await new Promise<void>((resolve) => waiters.push(resolve));
    return out;
  };
}

/** Another OS process that takes the write lock and keeps it until released. */
async function holdLock(path: string) {
  const proc = spawn(process.execPath, ['test/storage/lock-holder-child.ts', path], { timeout: 40_000 });
  const saw = lines(proc);
  await saw('locked');
  const exited = new Promise<void>((resolve) => proc.on('close', () => resolve()));
  proc.stdin.on('error', () => undefined); // it may have exited already
  cleanup.push(() => {
    if (proc.exitCode === null) proc.stdin.end('release\n');
    return exited;
  });
  return {
    async release() {
      proc.stdin.write('release\n');
      await saw('released');
    },
  };
}

describe('a database locked by another process', () => {
  it('keeps the event loop running while a save waits, and the save lands once the lock is released', async () => {
    const path = join(dir, 'a.db');
    const { database } = open(path, { lockWaitMs: 20_000 });
    const store = new SqliteStore(database);
    const lock = await holdLock(path);

    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    cleanup.push(() => clearInterval(ticker));
    let settled = false;
    const saving = store.save(record()).finally(() => {
      settled = true;
    });
    // A synchronous busy wait would hold the loop until the save gave up: no tick could run meanwhile.
    while (ticks < 50) await sleep(1);
    expect(settled).toBe(false);

    await lock.release();
    const saved = await saving;
    expect(await store.get(saved.id)).toEqual(saved);
  });

  it('fails with storage.failed (an error log naming the lock) when the lock outlasts the bound, then works again', async () => {
    const path = join(dir, 'a.db');
    const { database, logs } = open(path, { lockWaitMs: 200 });
    const store = new SqliteStore(database);
    const lock = await holdLock(path);
    await expect(store.save(record())).rejects.toMatchObject({
      name: 'AnnamalaiError',
      code: 'storage.failed',
      message: expect.stringContaining('stayed locked by another process'),
    });
    const logged = logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'storage failed');
    expect(logged).toHaveLength(1);
    expect(logged[0]?.level).toBe(50);
    expect(database.monitor.health()).toEqual({ state: 'ok' });

    await lock.release();
    const saved = await store.save(record());
    expect(await store.get(saved.id)).toEqual(saved);
  });
});

describe('the database directory removed or the file replaced while open', () => {
  it('a write notices the deleted directory: health lost, a loud error log, and writes refused with storage.unavailable', async () => {
    const sub = join(dir, 'data');
    const { database, logs } = open(join(sub, 'bot.db'), { checkIntervalMs: 60_000 });
    const store = new SqliteStore(database);
    const settings = new SqliteSettingsStore(database);
    await store.save(record());
    const changes: StorageHealth[] = [];
    database.monitor.onChange((h) => changes.push(h));

    rmSync(sub, { recursive: true, force: true });
    await expect(store.save(record())).rejects.toMatchObject({ code: 'storage.unavailable' });
    await expect(settings.setOptedOut('discord', 'u1', true)).rejects.toMatchObject({
      code: 'storage.unavailable',
    });
    expect(database.monitor.health()).toMatchObject({
      state: 'lost',
      detail: `database file ${join(sub, 'bot.db')} was deleted`,
    });
    expect(changes).toHaveLength(1);
    const loud = logs.map((l) => JSON.parse(l)).filter((l) => l.level === 50);
    expect(loud.map((l) => l.msg)).toEqual([
      `database file ${join(sub, 'bot.db')} was deleted: results, settings and opt-outs can no longer be stored; restart after restoring it`,
    ]);
  });

  it('the periodic check notices a replaced file without any write', async () => {
    const path = join(dir, 'bot.db');
    const { database } = open(path, { checkIntervalMs: 10 });
    const lost = new Promise<StorageHealth>((resolve) => database.monitor.onChange(resolve));
    writeFileSync(join(dir, 'other'), '');
    renameSync(join(dir, 'other'), path);
    expect(await lost).toMatchObject({
      state: 'lost',
      detail: `database file ${path} was replaced by another file`,
    });
  });
});

/** As root every file is writable, so the read-only cases run their process as nobody. */
const root = process.getuid?.() === 0;
const NOBODY = 65534;

async function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    timeout: 30_000,
    ...(root && { uid: NOBODY, gid: NOBODY }),
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => {
    stdout += String(d);
  });
  proc.stderr.on('data', (d) => {
    stderr += String(d);
  });
  const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
  return { code, stdout, stderr };
}

/** A migrated database the child's user cannot write: the file itself, or (file writable) its directory. */
async function readOnly(kind: 'file' | 'directory'): Promise<string> {
  const sub = join(dir, kind);
  const path = join(sub, 'bot.db');
  await Database.open({ path }).close();
  chmodSync(sub, 0o755);
  if (kind === 'file') {
    chmodSync(path, 0o444);
    if (root) chownSync(sub, NOBODY, NOBODY);
  } else if (root) {
    chownSync(path, NOBODY, NOBODY);
  } else {
    chmodSync(sub, 0o555);
    cleanup.push(() => chmodSync(sub, 0o755));
  }
  return path;
}

describe('a read-only database at open', () => {
  for (const kind of ['file', 'directory'] as const) {
    it(`a read-only ${kind} is refused at open with storage.unavailable naming the path and the reason`, async () => {
      const path = await readOnly(kind);
      const { stdout } = await run(['test/storage/open-child.ts', path]);
      expect(JSON.parse(stdout)).toEqual({
        opened: false,
        name: 'AnnamalaiError',
        code: 'storage.unavailable',
        message: `storage.unavailable: cannot open database ${path} for writing: it is read-only (check that this user can write the file and its directory)`,
      });
    });
  }

  it('the bots refuse to start on a read-only database: one clear line and a non-zero exit', async () => {
    const path = await readOnly('file');
    const { code, stderr } = await run(['src/bots/main.ts'], {
      DISCORD_TOKEN: 'test-token',
      DISCORD_APPLICATION_ID: '123456789012345678',
      DATABASE_PATH: path,
      LOG_LEVEL: 'silent',
    });
    expect(code).not.toBe(0);
    expect(stderr).toBe(
      `DATABASE_PATH: cannot open database ${path} for writing: it is read-only (check that this user can write the file and its directory)\n`,
    );
  });
});
