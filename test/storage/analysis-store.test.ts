import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnalysisRecord } from '../../src/core/records.ts';
import { MIGRATIONS } from '../../src/storage/migrations.ts';
import { SqliteStore } from '../../src/storage/sqlite-store.ts';

let dir: string;
let store: SqliteStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'annamalai-store-'));
  store = new SqliteStore({ path: join(dir, 'nested', 'a.db') });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

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

describe('SqliteStore', () => {
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

  it('runs migrations once, in WAL mode, and keeps data across reopening', async () => {
    const path = join(dir, 'nested', 'a.db');
    const saved = await store.save(record());
    await store.close();
    store = new SqliteStore({ path });
    expect(store.schemaVersion).toBe(MIGRATIONS.length);
    expect(await store.get(saved.id)).toEqual(saved);
    const raw = new DatabaseSync(path);
    expect(raw.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    expect(raw.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get()).toEqual({
      n: MIGRATIONS.length,
    });
    raw.close();
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
    const raw = new DatabaseSync(join(dir, 'nested', 'a.db'));
    expect(raw.prepare('SELECT COUNT(*) AS n FROM segments').get()).toEqual({ n: 2 });
    raw.close();
  });

  it('purges analyses older than a cutoff and keeps newer ones', async () => {
    await store.save(record({ createdAt: new Date('2026-10-01T00:00:00Z') }));
    const recent = await store.save(record({ createdAt: new Date('2026-11-20T00:00:00Z') }));
    expect(await store.purgeOlderThan(new Date('2026-11-01T00:00:00Z'))).toBe(1);
    expect((await store.userHistory('discord', 'u1', 10)).map((r) => r.id)).toEqual([recent.id]);
  });

  it('has no column that could hold audio', () => {
    const raw = new DatabaseSync(join(dir, 'nested', 'a.db'));
    const columns = (
      raw.prepare("SELECT name, type FROM pragma_table_info('segments')").all() as {
        type: string;
      }[]
    ).concat(raw.prepare("SELECT name, type FROM pragma_table_info('analyses')").all() as { type: string }[]);
    raw.close();
    expect(columns.some((c) => c.type === 'BLOB')).toBe(false);
  });
});
