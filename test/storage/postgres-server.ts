import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/**
 * A throwaway Postgres server for tests: a fresh data directory in a temp dir, listening on 127.0.0.1 on a
 * free port (its socket in that dir too), password authentication, stopped and deleted afterwards.
 * Debian's server binaries (/usr/lib/postgresql/<version>/bin, package `postgresql`), or PG_BIN.
 */
export interface PgServer {
  /** postgres://annamalai:<password>@127.0.0.1:<port>/<database> */
  url(database: string): string;
  readonly password: string;
  /** A new empty database; returns its URL. */
  createDatabase(): Promise<string>;
  /** Stops the server, keeping its data (start() again brings it back on the same port). */
  pause(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and deletes its directory. */
  stop(): Promise<void>;
}

const BIN = findBin();
/** Why the Postgres half of the storage tests is skipped; undefined when it runs. */
export const POSTGRES_SKIP_REASON = BIN
  ? undefined
  : 'no PostgreSQL server binaries (/usr/lib/postgresql/<version>/bin or PG_BIN): install the Debian package postgresql, as scripts/test.sh does';

function findBin(): string | undefined {
  const candidates = process.env.PG_BIN
    ? [process.env.PG_BIN]
    : existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql')
          .sort((a, b) => Number(b) - Number(a))
          .map((v) => `/usr/lib/postgresql/${v}/bin`)
      : [];
  return candidates.find((dir) => existsSync(join(dir, 'postgres')) && existsSync(join(dir, 'initdb')));
}

/** Postgres refuses to run as root: as root, the server runs as the `postgres` user (else `nobody`). */
function serverUser(): { name: string; uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }));
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }));
      return { name, uid, gid };
    } catch {
      // no such user: try the next
    }
  }
  throw new Error('running as root and neither the postgres nor the nobody user exists');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

export async function startPostgres(): Promise<PgServer> {
  if (!BIN) throw new Error(POSTGRES_SKIP_REASON);
  const bin = BIN;
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'annamalai-pg-'));
  const data = join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  writeFileSync(join(dir, 'pw'), password, { mode: 0o600 });
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chownSync(join(dir, 'pw'), user.uid, user.gid);
  }
  const as = (tool: string, args: string[]) =>
    user
      ? run('runuser', ['-u', user.name, '--', join(bin, tool), ...args], { timeout: 60_000 })
      : run(join(bin, tool), args, { timeout: 60_000 });
  await as('initdb', [
    '-D',
    data,
    '-U',
    'annamalai',
    `--pwfile=${join(dir, 'pw')}`,
    '--auth=scram-sha-256',
    '--no-sync',
    '--encoding=UTF8',
    '--locale=C',
  ]);
  const port = await freePort();
  const options = `-k ${dir} -h 127.0.0.1 -p ${port} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  const url = (database: string) => `postgres://annamalai:${password}@127.0.0.1:${port}/${database}`;
  const ctl = (args: string[]) => as('pg_ctl', ['-D', data, '-w', '-t', '30', ...args]);
  const start = async () => {
    await ctl(['-l', join(dir, 'log'), '-o', options, 'start']).catch((error: unknown) => {
      const log = existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8') : '';
      throw new Error(`postgres did not start: ${String(error)}\n${log}`);
    });
  };
  await start();
  // A test process killed before stop() would leave the server running: stop it on the way out too.
  const onExit = () => {
    try {
      execFileSync('kill', [
        '-QUIT',
        readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0] ?? '',
      ]);
    } catch {
      // not running
    }
  };
  process.once('exit', onExit);
  let databases = 0;
  return {
    url,
    password,
    async createDatabase() {
      const name = `t${++databases}`;
      const admin = new pg.Client({ connectionString: url('postgres') });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    pause: async () => {
      await ctl(['-m', 'fast', 'stop']);
    },
    start,
    async stop() {
      process.removeListener('exit', onExit);
      await ctl(['-m', 'fast', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
