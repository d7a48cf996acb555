import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, jsonLines } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'annamalai-speaker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** tiny-single carries a baseline head (min_recordings 2); tiny has none. */
const WITH_HEAD = { MODEL_DIR: 'test/fixtures/models/tiny-single' };
const FILES = ['samples/hello.ogg', 'test/fixtures/audio/speech.flac', 'test/fixtures/audio/speech.mp3'];
const USUAL = 'Compared with your usual voice, 2 recordings.';

function baselines(db: string): Record<string, unknown>[] {
  const raw = new DatabaseSync(db);
  try {
    return raw.prepare('SELECT user_id, count, mean, m2 FROM voice_baselines ORDER BY user_id').all();
  } finally {
    raw.close();
  }
}

describe('annamalai analyze --speaker (end to end: a series of one person’s files)', () => {
  it('the first recordings build the baseline, the third is judged against it and says so; each one is added', async () => {
    const db = join(dir, 'series.db');
    const run = await cli(
      ['analyze', '--format', 'json', '--db', db, '--speaker', 'ann', ...FILES],
      WITH_HEAD,
    );
    expect(run.code).toBe(0);
    const [first, second, third] = jsonLines(run.stdout) as { summary: { notes: string[] } }[];
    expect(first?.summary.notes).not.toContain(USUAL);
    expect(second?.summary.notes).not.toContain(USUAL);
    expect(third?.summary.notes).toContain(USUAL);
    const [row] = baselines(db);
    expect(row).toMatchObject({ user_id: 'ann', count: 3 });
    expect(JSON.parse(String(row?.mean))).toHaveLength(3);

    // The same file without --speaker: the main head's answer, which the baseline head replaced.
    const plain = await cli(['analyze', '--format', 'json', FILES[2] ?? ''], WITH_HEAD);
    const [alone] = jsonLines(plain.stdout) as { segments: unknown[] }[];
    expect((third as unknown as { segments: unknown[] }).segments).not.toEqual(alone?.segments);

    // A later run goes on from the stored statistics.
    const next = await cli(
      ['analyze', '--format', 'json', '--db', db, '--speaker', 'ann', FILES[0] ?? ''],
      WITH_HEAD,
    );
    expect(jsonLines(next.stdout)[0]).toMatchObject({
      summary: { notes: expect.arrayContaining(['Compared with your usual voice, 3 recordings.']) },
    });
    expect(baselines(db)[0]).toMatchObject({ count: 4 });
  });

  it('a new model version starts over: the old statistics are dropped at its first recording', async () => {
    const db = join(dir, 'versions.db');
    await cli(['analyze', '--db', db, '--speaker', 'ann', ...FILES.slice(0, 2)], WITH_HEAD);
    expect(baselines(db)).toMatchObject([{ count: 2 }]);
    const v2 = join(dir, 'tiny-single-v2');
    cpSync(WITH_HEAD.MODEL_DIR, v2, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(v2, 'manifest.json'), 'utf8')) as { version: string };
    writeFileSync(join(v2, 'manifest.json'), JSON.stringify({ ...manifest, version: '2.0.0' }));
    const run = await cli(['analyze', '--format', 'json', '--db', db, '--speaker', 'ann', FILES[2] ?? ''], {
      MODEL_DIR: v2,
    });
    expect(jsonLines(run.stdout)[0]).toMatchObject({
      summary: { notes: expect.not.arrayContaining([USUAL]) },
    });
    const raw = new DatabaseSync(db);
    expect(raw.prepare('SELECT model_version, count FROM voice_baselines').all()).toEqual([
      { model_version: '2.0.0', count: 1 },
    ]);
    raw.close();
  });

  it('a model without a baseline head says --speaker changes nothing and keeps nothing', async () => {
    const db = join(dir, 'no-head.db');
    const run = await cli(['analyze', '--db', db, '--speaker', 'ann', FILES[0] ?? '']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/no voice-baseline head, so --speaker changes nothing/);
    expect(baselines(db)).toEqual([]);
  });

  it('--speaker without --db, or with a bad id, is a usage error (exit 2)', async () => {
    const noDb = await cli(['analyze', '--speaker', 'ann', FILES[0] ?? '']);
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toMatch(/--speaker needs --db/);
    const bad = await cli(['analyze', '--db', join(dir, 'x.db'), '--speaker', 'a b', FILES[0] ?? '']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--speaker must be/);
  });
});
