import { describe, expect, it } from 'vitest';
import type { SettingsStore } from '../../src/core/ports.ts';
import { SqliteDigestStore } from '../../src/storage/digest-store.ts';
import { SqliteSettingsStore } from '../../src/storage/settings-store.ts';
import { MemorySettingsStore } from '../support/twins.ts';
import { BACKENDS, latest, title, useBackend } from './backends.ts';

/** What every SettingsStore does, the in-memory twin included. */
function keepsSettings(make: () => Promise<SettingsStore>) {
  it('keeps auto-analysis channels, digest channel and retention per workspace, and opt-outs per platform', async () => {
    const s = await make();
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
  });
}

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip)(title(backend, 'SettingsStore (migration 2)'), () => {
    const env = useBackend(backend);

    keepsSettings(async () => (await env.open(await env.fresh())).settings);

    it('migration 2 and later apply on top of an existing version-1 database and keep its rows', async () => {
      const location = await env.fresh();
      await env.migrateTo(location, 1);
      await env.exec(
        location,
        `INSERT INTO analyses (id, platform, duration_s, model_id, model_version, created_at, status)
         VALUES ('a', 'discord', 1, 'm', '1', 0, 'ok')`,
      );
      const storage = await env.open(location);
      await storage.settings.setOptedOut('discord', 'x', true);
      expect(storage.schemaVersion).toBe(latest(backend.migrations));
      const versions = await env.sql(location, 'SELECT version FROM schema_migrations ORDER BY version');
      expect(versions.map((r) => Number(r.version))).toEqual(backend.migrations.map((m) => m.version));
      expect(await env.sql(location, 'SELECT id FROM analyses')).toEqual([{ id: 'a' }]);
    });

    it('two processes patching different settings of one workspace at once both keep their change', async () => {
      const location = await env.fresh();
      const one = (await env.open(location)).settings;
      const two = (await env.open(location)).settings;
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          i % 2 === 0
            ? one.updateWorkspace('slack', 'T1', { retentionDays: 30, addAutoAnalysisChannel: `a${i}` })
            : two.updateWorkspace('slack', 'T1', { digestChannelId: 'D', addAutoAnalysisChannel: `b${i}` }),
        ),
      );
      const settings = await one.workspace('slack', 'T1');
      expect(settings).toMatchObject({ retentionDays: 30, digestChannelId: 'D' });
      expect(settings.autoAnalysisChannels).toHaveLength(10);
    });

    // SQLite only: its one connection runs writes in call order, so each update returns exactly the
    // state after it. A Postgres pool runs the three on separate connections in any order, so what each
    // returns is not fixed there (that all land is the test of two processes above).
    it.skipIf(backend.name !== 'SQLite')(
      'two settings updates (and an opt-out) started in one tick on one connection all land, each returning the state after it',
      async () => {
        const settings = (await env.open(await env.fresh())).settings;
        const [first, second, optedOut] = await Promise.all([
          settings.updateWorkspace('discord', 'g1', { addAutoAnalysisChannel: 'c1', retentionDays: 7 }),
          settings.updateWorkspace('discord', 'g1', { digestChannelId: 'd' }),
          settings.setOptedOut('discord', 'u', true),
        ]);
        expect(first).toEqual({ autoAnalysisChannels: ['c1'], digestChannelId: null, retentionDays: 7 });
        expect(second).toEqual({ autoAnalysisChannels: ['c1'], digestChannelId: 'd', retentionDays: 7 });
        expect(optedOut).toBe(true);
        expect(await settings.workspace('discord', 'g1')).toEqual(second);
      },
    );
  });
}

describe('MemorySettingsStore twin', () => {
  keepsSettings(async () => new MemorySettingsStore());
});

it('the settings and digest stores refuse an in-memory SQLite database (their tables are shared with the results)', () => {
  expect(() => new SqliteSettingsStore({ path: ':memory:' })).toThrow(/SqliteSettingsStore needs a file/);
  expect(() => new SqliteDigestStore({ path: ':memory:' })).toThrow(/SqliteDigestStore needs a file/);
});
