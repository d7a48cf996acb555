import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recording } from '../digest/helpers.ts';
import { BACKENDS, latest, title, useBackend } from './backends.ts';

const dir = mkdtempSync(join(tmpdir(), 'annamalai-digest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const key = { platform: 'slack', workspaceId: 'T1', channelId: 'C1', periodStart: 1000 };
const defaults = {
  targetChannelId: 'C1',
  enabled: true,
  schedule: 'weekly mon 09:00',
  timeZone: 'UTC',
  emptyLine: false,
};

/** Claims periods 0..n-1 of one channel in a child process (see digest-claim-child.ts). */
function claimer(location: string, name: string, n: number, go: string, order: 'up' | 'down') {
  const proc = spawn(
    process.execPath,
    ['test/storage/digest-claim-child.ts', location, name, String(n), go, order],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 20_000,
    },
  );
  let out = '';
  const ready = new Promise<void>((resolve) =>
    proc.stdout.on('data', (d) => {
      out += String(d);
      if (out.includes('ready')) resolve();
    }),
  );
  const done = new Promise<{ won: number[]; from: number; to: number }>((resolve, reject) =>
    proc.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out.split('\n')[1] ?? '{}')) : reject(new Error(`exit ${code}`)),
    ),
  );
  return { ready, done };
}

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip)(title(backend, 'DigestStore (migration 3)'), () => {
    const env = useBackend(backend);
    const open = async () => {
      const location = await env.fresh();
      const storage = await env.open(location);
      return { location, store: storage.results, digests: storage.digests, settings: storage.settings };
    };

    it('migrates a database left at version 2 to version 3, keeping its rows', async () => {
      const location = await env.fresh();
      await env.migrateTo(location, 2);
      await env.exec(location, "INSERT INTO opt_outs VALUES ('slack', 'U1', 0)");
      const storage = await env.open(location);
      expect(storage.schemaVersion).toBe(latest(backend.migrations));
      expect(await storage.settings.isOptedOut('slack', 'U1')).toBe(true);
    });

    it('claims a digest once: a second claim of the same channel and period fails, another period succeeds', async () => {
      const { digests } = await open();
      const now = new Date('2026-06-01T00:00:00Z');
      expect(await digests.claim(key, 2000, 'a', now)).toBe(true);
      expect(await digests.claim(key, 2000, 'b', now)).toBe(false);
      expect(await digests.claim({ ...key, periodStart: 2000 }, 3000, 'b', now)).toBe(true);
      expect(await digests.run(key)).toMatchObject({ status: 'posted', claimedBy: 'a', attempts: 1 });
    });

    it('lets a failed digest be claimed again only once its retry is due, and only by one claimant', async () => {
      const { digests } = await open();
      await digests.claim(key, 2000, 'a', new Date(0));
      await digests.finish(key, { status: 'failed', error: 'boom', nextAttemptAt: new Date(60_000) });
      expect(await digests.claim(key, 2000, 'b', new Date(59_999))).toBe(false);
      expect(await digests.claim(key, 2000, 'b', new Date(60_000))).toBe(true);
      expect(await digests.claim(key, 2000, 'c', new Date(60_000))).toBe(false);
      await digests.finish(key, { status: 'failed', error: 'boom', nextAttemptAt: null });
      expect(await digests.claim(key, 2000, 'c', new Date(10 ** 12))).toBe(false);
      expect(await digests.run(key)).toMatchObject({ status: 'failed', attempts: 2, error: 'boom' });
    });

    it('two OS processes claiming the same 300 periods at the same moment on one database win each exactly once between them', async () => {
      const { location, digests } = await open();
      const go = join(dir, `${backend.name}-${Math.random()}.go`);
      const a = claimer(location, 'A', 300, go, 'up');
      const b = claimer(location, 'B', 300, go, 'down');
      await Promise.all([a.ready, b.ready]);
      writeFileSync(go, '');
      const [ra, rb] = await Promise.all([a.done, b.done]);
      const [wonA, wonB] = [ra.won, rb.won];
      expect(wonA.length + wonB.length).toBe(300);
      expect(new Set([...wonA, ...wonB]).size).toBe(300);
      expect(await digests.runs('slack', 'T1', 'C1')).toHaveLength(300);
      // They really claimed at the same time (SQLite's busy handler may let one win most of them).
      expect(Math.max(ra.from, rb.from)).toBeLessThan(Math.min(ra.to, rb.to));
    });

    it('keeps a config per channel; a new schedule, zone or switching on resets activeSince, a new target does not', async () => {
      const { digests } = await open();
      const k = { platform: 'discord', workspaceId: 'G', channelId: 'C' };
      const t0 = new Date('2026-01-01T00:00:00Z');
      const t1 = new Date('2026-01-02T00:00:00Z');
      const t2 = new Date('2026-01-03T00:00:00Z');
      expect(await digests.updateConfig(k, {}, defaults, t0)).toMatchObject({
        enabled: true,
        activeSince: t0,
      });
      expect(await digests.updateConfig(k, { targetChannelId: 'D' }, defaults, t1)).toMatchObject({
        targetChannelId: 'D',
        activeSince: t0,
      });
      expect(await digests.updateConfig(k, { schedule: 'daily 09:00' }, defaults, t1)).toMatchObject({
        activeSince: t1,
      });
      await digests.updateConfig(k, { enabled: false }, defaults, t2);
      expect(await digests.enabledConfigs('discord')).toEqual([]);
      expect(await digests.updateConfig(k, { enabled: true }, defaults, t2)).toMatchObject({
        activeSince: t2,
      });
      expect(await digests.workspaceConfigs('discord', 'G')).toHaveLength(1);
    });

    it('claims a maintenance job run once and lists explicit retentions', async () => {
      const { digests, settings } = await open();
      expect(await digests.claimJob('purge:slack', '2026-06-01', 'a', new Date())).toBe(true);
      expect(await digests.claimJob('purge:slack', '2026-06-01', 'b', new Date())).toBe(false);
      await settings.updateWorkspace('slack', 'T1', { retentionDays: 30 });
      await settings.updateWorkspace('slack', 'T2', { digestChannelId: 'C9' });
      expect(await digests.retentions('slack')).toEqual([{ workspaceId: 'T1', retentionDays: 30 }]);
    });

    it('purgeByWorkspace deletes per workspace cutoff, others and DMs at the default, segments included, other platforms untouched', async () => {
      const { location, store } = await open();
      const old = '2026-01-01T00:00:00Z';
      const a = await store.save(recording(old, 'u', [['sad', 0.9]], { workspaceId: 'keep' }));
      await store.save(recording(old, 'u', [['sad', 0.9]], { workspaceId: 'short' }));
      await store.save(recording(old, 'u', [['sad', 0.9]], { workspaceId: 'other' }));
      await store.save(recording(old, 'u', [['sad', 0.9]], { platform: 'slack' }));
      const segmentsBefore = await env.count(location, 'segments');
      expect(segmentsBefore).toBeGreaterThan(0);
      const n = await store.purgeByWorkspace(
        'discord',
        new Map([
          ['keep', new Date('2025-01-01')],
          ['short', new Date('2026-02-01')],
        ]),
        new Date('2026-02-01'),
      );
      expect(n).toBe(2);
      expect(await env.count(location, 'segments')).toBe(segmentsBefore / 2);
      expect((await store.userHistory('discord', 'u', 10)).map((r) => r.id)).toEqual([a.id]);
      expect(await store.userHistory('slack', 'u', 10)).toHaveLength(1);
    });
  });
}
