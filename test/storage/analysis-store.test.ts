import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AnalysisStore } from '../../src/core/ports.ts';
import type { AnalysisRecord } from '../../src/core/records.ts';
import { MIGRATIONS } from '../../src/storage/migrations.ts';
import { SqliteStore } from '../../src/storage/sqlite-store.ts';
import { BACKENDS, latest, title, useBackend } from './backends.ts';

function record(overrides: Partial<AnalysisRecord> = {}): AnalysisRecord {
  return {
    platform: 'discord',
    workspaceId: 'g1',
    channelId: 'c1',
    userId: 'u1',
    sourceId: 'm1',
    durationS: 7.5,
    model: { id: 'm', version: '1' },
    createdAt: new Date('2026-11-01T10:00:00Z'),
    outcome: {
      status: 'ok',
      segments: [
        {
          kind: 'speech',
          index: 0,
          startS: 0,
          endS: 5,
          probabilities: { anger: 0.7, sad: 0.3 },
          top: [
            { label: 'anger', confidence: 0.7 },
            { label: 'sad', confidence: 0.3 },
          ],
          band: 'orange',
        },
        { kind: 'silence', index: 1, startS: 5, endS: 7.5 },
      ],
    },
    ...overrides,
  };
}

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip)(title(backend, 'AnalysisStore'), () => {
    const env = useBackend(backend);
    let location: string;
    let store: AnalysisStore;
    beforeEach(async () => {
      location = await env.fresh();
      store = (await env.open(location)).results;
    });

    it('round-trips an analysis with speech and silent segments exactly', async () => {
      const saved = await store.save(record());
      expect(await store.get(saved.id)).toEqual(saved);
    });

    it('round-trips a failed analysis with its error code and no segments', async () => {
      const saved = await store.save(
        record({ outcome: { status: 'failed', error: { code: 'audio.corrupt', message: 'damaged' } } }),
      );
      expect((await store.get(saved.id))?.outcome).toEqual({
        status: 'failed',
        error: { code: 'audio.corrupt', message: 'damaged' },
      });
    });

    it('runs every migration once and keeps data across reopening', async () => {
      const saved = await store.save(record());
      const reopened = await env.open(location);
      expect(reopened.schemaVersion).toBe(latest(backend.migrations));
      expect(await reopened.results.get(saved.id)).toEqual(saved);
      expect(await env.count(location, 'schema_migrations')).toBe(backend.migrations.length);
    });

    it("stores a job's analysis once: a retried job's second save (its worker died before completing the job) replaces the first under its id, segments included", async () => {
      const first = await store.save(
        record({
          jobId: 'job-1',
          outcome: { status: 'failed', error: { code: 'inference.failed', message: 'model crashed' } },
        }),
      );
      const again = await store.save(record({ jobId: 'job-1' }));
      const third = await store.save(record({ jobId: 'job-1', durationS: 7.25 }));
      expect([again.id, third.id]).toEqual([first.id, first.id]);
      expect(await env.count(location, 'analyses')).toBe(1);
      expect(await env.count(location, 'segments')).toBe(2);
      expect(await store.byJob('job-1')).toEqual(third);
      expect(await store.get(first.id)).toEqual(third);
      expect(await store.byJob('job-2')).toBeUndefined();
      // Without a job id (the CLI, the web server) every save is an analysis of its own.
      await store.save(record());
      await store.save(record());
      expect(await env.count(location, 'analyses')).toBe(3);
    });

    it('two connections (as two workers) storing the same job at once leave one analysis', async () => {
      const other = (await env.open(location)).results;
      const [a, b] = await Promise.all([
        store.save(record({ jobId: 'job-9' })),
        other.save(record({ jobId: 'job-9', durationS: 7.25 })),
      ]);
      expect(a.id).toBe(b.id);
      expect(await env.count(location, 'analyses')).toBe(1);
      expect(await env.count(location, 'segments')).toBe(2);
    });

    it('applies a migration missing below the newest applied one (a version added on another branch)', async () => {
      await store.save(record());
      // Migration 2 (settings tables) undone, as if it were numbered below the others but merged later.
      await env.exec(
        location,
        `DROP TABLE opt_outs; DROP TABLE auto_analysis_channels; DROP TABLE workspace_settings;
         DELETE FROM schema_migrations WHERE version = 2;`,
      );
      const reopened = await env.open(location);
      await reopened.settings.setOptedOut('discord', 'u1', true);
      expect(await reopened.settings.isOptedOut('discord', 'u1')).toBe(true);
      expect(await env.count(location, 'schema_migrations')).toBe(backend.migrations.length);
      expect(reopened.schemaVersion).toBe(latest(backend.migrations));
    });

    it("lists a user's history newest first, limited, and only that user's", async () => {
      for (const day of [1, 3, 2]) {
        await store.save(record({ createdAt: new Date(`2026-11-0${day}T00:00:00Z`), sourceId: `d${day}` }));
      }
      await store.save(record({ userId: 'u2' }));
      await store.save(record({ platform: 'slack' }));
      const history = await store.userHistory('discord', 'u1', 2);
      expect(history.map((h) => h.sourceId)).toEqual(['d3', 'd2']);
    });

    it('breaks ties of equal times by insertion order, in history (newest first) and in a channel', async () => {
      for (const n of [1, 2, 3]) await store.save(record({ sourceId: `s${n}` }));
      expect((await store.userHistory('discord', 'u1', 10)).map((h) => h.sourceId)).toEqual([
        's3',
        's2',
        's1',
      ]);
      const all = { from: new Date(0), to: new Date('2030-01-01') };
      expect((await store.channelAnalyses('discord', 'c1', all)).map((h) => h.sourceId)).toEqual([
        's1',
        's2',
        's3',
      ]);
    });

    it("returns a channel's analyses inside a half-open time range only", async () => {
      for (const hour of [9, 10, 11, 12]) {
        await store.save(
          record({
            createdAt: new Date(`2026-11-01T${String(hour).padStart(2, '0')}:00:00Z`),
            sourceId: `h${hour}`,
          }),
        );
      }
      await store.save(record({ channelId: 'other', createdAt: new Date('2026-11-01T10:30:00Z') }));
      const found = await store.channelAnalyses('discord', 'c1', {
        from: new Date('2026-11-01T10:00:00Z'),
        to: new Date('2026-11-01T12:00:00Z'),
      });
      expect(found.map((f) => f.sourceId)).toEqual(['h10', 'h11']);
    });

    it("deletes everything of one user, segments included, and nobody else's", async () => {
      await store.save(record());
      await store.save(record());
      const other = await store.save(record({ userId: 'u2' }));
      expect(await store.deleteUser('discord', 'u1')).toBe(2);
      expect(await store.userHistory('discord', 'u1', 10)).toEqual([]);
      expect(await store.get(other.id)).toEqual(other);
      expect(await env.count(location, 'segments')).toBe(2);
    });

    it('purges analyses older than a cutoff and keeps newer ones', async () => {
      await store.save(record({ createdAt: new Date('2026-10-01T00:00:00Z') }));
      const recent = await store.save(record({ createdAt: new Date('2026-11-20T00:00:00Z') }));
      expect(await store.purgeOlderThan(new Date('2026-11-01T00:00:00Z'))).toBe(1);
      expect((await store.userHistory('discord', 'u1', 10)).map((r) => r.id)).toEqual([recent.id]);
    });

    it('has no column that could hold audio', async () => {
      const types = [
        ...(await env.columnTypes(location, 'segments')),
        ...(await env.columnTypes(location, 'analyses')),
      ];
      expect(types.length).toBeGreaterThan(20);
      expect(types.some((t) => t === 'BLOB' || t === 'BYTEA')).toBe(false);
    });
  });
}

describe('SqliteStore opening its own file', () => {
  it('creates the directory, runs migrations once, in WAL mode, and keeps data across reopening', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'annamalai-store-'));
    const path = join(dir, 'nested', 'a.db');
    let store = new SqliteStore({ path });
    const saved = await store.save(record());
    await store.close();
    store = new SqliteStore({ path });
    expect(store.schemaVersion).toBe(latest(MIGRATIONS));
    expect(await store.get(saved.id)).toEqual(saved);
    await store.close();
    const raw = new DatabaseSync(path);
    expect(raw.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    expect(raw.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get()).toEqual({
      n: MIGRATIONS.length,
    });
    raw.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
