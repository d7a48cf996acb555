// Another process holding the database's write lock: takes it, says "locked", and keeps it until a line
// arrives on stdin (or 30 s pass), then commits, says "released" and exits. Run by database.test.ts.
import { DatabaseSync } from 'node:sqlite';

const db = new DatabaseSync(String(process.argv[2]));
db.exec('BEGIN IMMEDIATE');
db.prepare("INSERT OR REPLACE INTO storage_meta (key, value) VALUES ('lock_holder', ?)").run(process.pid);
process.stdout.write('locked\n');
const release = (): void => {
  db.exec('COMMIT');
  db.close();
  process.stdout.write('released\n');
  process.exit(0);
};
process.stdin.once('data', release);
setTimeout(release, 30_000).unref();
