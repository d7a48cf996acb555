import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../src/storage/migrations.ts';
import { SqliteSettingsStore } from '../../../src/storage/settings-store.ts';
import { MemorySettingsStore } from '../../support/twins.ts';

const dir = mkdtempSync(join(tmpdir(), 'annamalai-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

for (const [name, make] of [
  [
    'SqliteSettingsStore (migration 2)',
    () => new SqliteSettingsStore({ path: join(dir, `s-${Math.random()}.db`) }),
  ],
  ['MemorySettingsStore twin', () => new MemorySettingsStore()],
] as const) {
  describe(name, () => {
    it('keeps auto-analysis channels, digest channel and retention per workspace, and opt-outs per platform', async () => {
      const s = make();
      expect(await s.workspace('discord', 'g1')).toEqual({
        autoAnalysisChannels: [],
        digestChannelId: null,
        retentionDays: null,
      });
      await s.updateWorkspace('discord', 'g1', { addAutoAnalysisChannel: 'c1' });
      await s.updateWorkspace('discord', 'g1', { addAutoAnalysisChannel: 'c2', retentionDays: 7 });
      await s.updateWorkspace('discord', 'g1', { addAutoAnalysisChannel: 'c1', digestChannelId: 'd' });
      expect(await s.workspace('discord', 'g1')).toEqual({
        autoAnalysisChannels: ['c1', 'c2'],
        digestChannelId: 'd',
        retentionDays: 7,
      });
      await s.updateWorkspace('discord', 'g1', { removeAutoAnalysisChannel: 'c1', retentionDays: null });
      expect(await s.workspace('discord', 'g1')).toEqual({
        autoAnalysisChannels: ['c2'],
        digestChannelId: 'd',
        retentionDays: null,
      });
      expect(await s.isAutoAnalysisChannel('discord', 'g1', 'c2')).toBe(true);
      expect(await s.isAutoAnalysisChannel('slack', 'g1', 'c2')).toBe(false);
      expect(await s.setOptedOut('discord', 'u', true)).toBe(true);
      expect(await s.setOptedOut('discord', 'u', true)).toBe(false);
      expect(await s.isOptedOut('discord', 'u')).toBe(true);
      expect(await s.isOptedOut('slack', 'u')).toBe(false);
      expect(await s.setOptedOut('discord', 'u', false)).toBe(true);
      expect(await s.isOptedOut('discord', 'u')).toBe(false);
      await s.close();
    });
  });
}

it('migration 2 applies on top of an existing version-1 database and keeps its rows', async () => {
  const path = join(dir, 'v1.db');
  const v1 = new DatabaseSync(path);
  v1.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  v1.exec(MIGRATIONS[0]?.sql ?? '');
  v1.prepare('INSERT INTO schema_migrations VALUES (1, 0)').run();
  v1.prepare(
    `INSERT INTO analyses (id, platform, duration_s, model_id, model_version, created_at, status) VALUES ('a', 'discord', 1, 'm', '1', 0, 'ok')`,
  ).run();
  v1.close();
  const settings = new SqliteSettingsStore({ path });
  await settings.setOptedOut('discord', 'x', true);
  await settings.close();
  const raw = new DatabaseSync(path);
  expect(
    raw
      .prepare('SELECT version FROM schema_migrations ORDER BY version')
      .all()
      .map((r) => r.version),
  ).toEqual(MIGRATIONS.map((m) => m.version));
  expect(raw.prepare('SELECT id FROM analyses').all()).toEqual([{ id: 'a' }]);
  raw.close();
});

it('two settings updates (and an opt-out) started in one tick on one connection all land', async () => {
  const path = join(dir, 'same-tick.db');
  const settings = new SqliteSettingsStore({ path });
  const [first, second, optedOut] = await Promise.all([
    settings.updateWorkspace('discord', 'g1', { addAutoAnalysisChannel: 'c1', retentionDays: 7 }),
    settings.updateWorkspace('discord', 'g1', { digestChannelId: 'd' }),
    settings.setOptedOut('discord', 'u', true),
  ]);
  expect(first).toEqual({ autoAnalysisChannels: ['c1'], digestChannelId: null, retentionDays: 7 });
  expect(second).toEqual({ autoAnalysisChannels: ['c1'], digestChannelId: 'd', retentionDays: 7 });
  expect(optedOut).toBe(true);
  expect(await settings.workspace('discord', 'g1')).toEqual(second);
  await settings.close();
});
