// Why node:sqlite and not the sqlite3 package: saves 500 analyses of 12 segments each (our write pattern,
// one transaction per analysis) and reads 500 user histories, with both drivers on the same schema, in one
// run. sqlite3 is not a dependency (it compiles from source here); point SQLITE3_DIR at a folder where
// `npm install sqlite3` ran. Writes bench/results/sqlite.md.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MIGRATIONS } from '../src/storage/migrations.ts';
import { SqliteStore } from '../src/storage/sqlite-store.ts';

const ANALYSES = 500;
const SEGMENTS = 12;
const dir = mkdtempSync(join(tmpdir(), 'annamalai-sqlite-bench-'));
const probabilities = JSON.stringify({
  anger: 0.1,
  bored: 0.1,
  disgust: 0.1,
  fear: 0.1,
  happy: 0.2,
  neutral: 0.3,
  question: 0,
  sad: 0.05,
  surprise: 0.05,
});
const top = JSON.stringify([{ label: 'neutral', confidence: 0.3 }]);

async function nodeSqlite(): Promise<{ write: number; read: number }> {
  const store = new SqliteStore({ path: join(dir, 'node.db') });
  const segments = Array.from({ length: SEGMENTS }, (_, index) => ({
    kind: 'speech' as const,
    index,
    startS: index * 5,
    endS: index * 5 + 5,
    probabilities: JSON.parse(probabilities),
    top: JSON.parse(top),
    band: 'red' as const,
  }));
  let start = performance.now();
  for (let i = 0; i < ANALYSES; i++) {
    await store.save({
      platform: 'discord',
      userId: `u${i % 50}`,
      channelId: 'c',
      durationS: 60,
      model: { id: 'm', version: '1' },
      createdAt: new Date(1_700_000_000_000 + i),
      outcome: { status: 'ok', segments },
    });
  }
  const write = performance.now() - start;
  start = performance.now();
  for (let i = 0; i < ANALYSES; i++) await store.userHistory('discord', `u${i % 50}`, 5);
  const read = performance.now() - start;
  await store.close();
  return { write, read };
}

interface Sqlite3Db {
  run(sql: string, params: unknown[], cb: (err: Error | null) => void): void;
  all(sql: string, params: unknown[], cb: (err: Error | null, rows: unknown[]) => void): void;
  exec(sql: string, cb: (err: Error | null) => void): void;
  close(cb: () => void): void;
}

async function sqlite3(from: string): Promise<{ write: number; read: number }> {
  const lib = createRequire(join(from, 'package.json'))('sqlite3') as {
    Database: new (path: string) => Sqlite3Db;
  };
  const db = new lib.Database(join(dir, 'sqlite3.db'));
  const p = (fn: (cb: (err: Error | null, rows?: unknown[]) => void) => void) =>
    new Promise<unknown[]>((resolve, reject) => fn((err, rows) => (err ? reject(err) : resolve(rows ?? []))));
  await p((cb) =>
    db.exec(
      `PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; ${MIGRATIONS.map((m) => m.sql).join('\n')}`,
      cb,
    ),
  );
  let start = performance.now();
  for (let i = 0; i < ANALYSES; i++) {
    const id = `a${i}`;
    await p((cb) => db.run('BEGIN IMMEDIATE', [], cb));
    await p((cb) =>
      db.run(
        `INSERT INTO analyses (id, platform, user_id, channel_id, duration_s, model_id, model_version, created_at, status)
         VALUES (?, 'discord', ?, 'c', 60, 'm', '1', ?, 'ok')`,
        [id, `u${i % 50}`, 1_700_000_000_000 + i],
        cb,
      ),
    );
    for (let s = 0; s < SEGMENTS; s++) {
      await p((cb) =>
        db.run(
          'INSERT INTO segments (analysis_id, idx, start_s, end_s, silence, probabilities, top, band) VALUES (?, ?, ?, ?, 0, ?, ?, ?)',
          [id, s, s * 5, s * 5 + 5, probabilities, top, 'red'],
          cb,
        ),
      );
    }
    await p((cb) => db.run('COMMIT', [], cb));
  }
  const write = performance.now() - start;
  start = performance.now();
  for (let i = 0; i < ANALYSES; i++) {
    const rows = (await p((cb) =>
      db.all(
        'SELECT * FROM analyses WHERE platform = ? AND user_id = ? ORDER BY created_at DESC LIMIT 5',
        ['discord', `u${i % 50}`],
        cb,
      ),
    )) as { id: string }[];
    for (const row of rows)
      await p((cb) => db.all('SELECT * FROM segments WHERE analysis_id = ? ORDER BY idx', [row.id], cb));
  }
  const read = performance.now() - start;
  await new Promise<void>((resolve) => db.close(resolve));
  return { write, read };
}

const results: Record<string, { write: number; read: number }> = {
  'node:sqlite (SqliteStore)': await nodeSqlite(),
};
if (process.env.SQLITE3_DIR) {
  const from = process.env.SQLITE3_DIR;
  const { version } = JSON.parse(readFileSync(join(from, 'node_modules/sqlite3/package.json'), 'utf8')) as {
    version: string;
  };
  results[`sqlite3 ${version} (callbacks, same SQL)`] = await sqlite3(from);
}
rmSync(dir, { recursive: true, force: true });
const base = results['node:sqlite (SqliteStore)'];
const lines = [
  `# SQLite drivers (${new Date().toISOString()}, Node ${process.versions.node})`,
  '',
  `${ANALYSES} analyses × ${SEGMENTS} segments saved one transaction each, then ${ANALYSES} user-history reads (5 analyses with their segments).`,
  '',
  '| driver | save ms per analysis | history read ms | save / read time vs node:sqlite |',
  '|---|---|---|---|',
  ...Object.entries(results).map(
    ([name, r]) =>
      `| ${name} | ${(r.write / ANALYSES).toFixed(3)} | ${(r.read / ANALYSES).toFixed(3)} | ${base ? `${(r.write / base.write).toFixed(2)}× / ${(r.read / base.read).toFixed(2)}×` : '?'} |`,
  ),
  '',
];
writeFileSync('bench/results/sqlite.md', lines.join('\n'));
console.log(lines.join('\n'));
