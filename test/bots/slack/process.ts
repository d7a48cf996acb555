import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { FakeSlack } from './fake-slack.ts';
import { APP_TOKEN, BOT_TOKEN, FIXTURE_MODEL } from './harness.ts';

/** `npm run start:slack` as a process on `db`, its combined output. */
export function startSlackProcess(
  f: FakeSlack,
  db: string,
  children: ChildProcess[],
  env: Record<string, string> = {},
) {
  const child = spawn(process.execPath, ['src/bots/slack/main.ts'], {
    env: {
      ...process.env,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_APP_TOKEN: APP_TOKEN,
      SLACK_API_URL: f.apiUrl,
      SLACK_TEST_FILE_HOST: f.host,
      MODEL_DIR: FIXTURE_MODEL,
      INFERENCE_DEVICE: 'cpu',
      INFERENCE_WORKERS: '1',
      DATABASE_PATH: db,
      LOG_LEVEL: 'debug',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const out = { text: '' };
  child.stdout?.on('data', (d) => (out.text += String(d)));
  child.stderr?.on('data', (d) => (out.text += String(d)));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { child, out, exited };
}

/**
 * For tests that run the app as real processes: `setUp` gives each test a fresh fake Slack and a scratch
 * folder (named from `prefix`); after each test every process `start`ed is killed, the fake closed and the
 * folder removed, whether the test passed or not.
 */
export function useSlackProcesses(prefix: string) {
  let children: ChildProcess[] = [];
  let fake: FakeSlack | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    children = [];
    await fake?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    fake = undefined;
    dir = undefined;
  });
  return {
    async setUp(): Promise<{ fake: FakeSlack; dir: string }> {
      fake = await FakeSlack.start();
      dir = mkdtempSync(join(tmpdir(), prefix));
      return { fake, dir };
    },
    start: (f: FakeSlack, db: string, env: Record<string, string> = {}) =>
      startSlackProcess(f, db, children, env),
  };
}
