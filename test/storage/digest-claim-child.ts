// A process for the claim race: says "ready", waits for the go file, then claims periods 0..n-1 (or n-1..0)
// of one channel as fast as it can and prints which it won and when it started and finished. The database
// is a SQLite file path or a Postgres URL. Run by test/storage/digest-store.test.ts.
import { existsSync } from 'node:fs';
import { openStorage } from '../../src/storage/open.ts';
import { isPostgresUrl } from '../../src/storage/target.ts';

const [location, claimant, n, goFile, order] = process.argv.slice(2);
const where = String(location);
const storage = await openStorage(
  isPostgresUrl(where) ? { kind: 'postgres', url: where } : { kind: 'sqlite', path: where },
);
process.stdout.write('ready\n');
const deadline = Date.now() + 10_000;
while (!existsSync(String(goFile)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
const won: number[] = [];
const t0 = Date.now();
for (let j = 0; j < Number(n); j++) {
  // One process goes up, the other down: they meet (and collide) in the middle.
  const i = order === 'down' ? Number(n) - 1 - j : j;
  const key = { platform: 'slack', workspaceId: 'T1', channelId: 'C1', periodStart: i };
  if (await storage.digests.claim(key, i + 1, String(claimant), new Date())) won.push(i);
}
const t1 = Date.now();
await storage.close();
process.stdout.write(`${JSON.stringify({ won, from: t0, to: t1 })}\n`);
