import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { killRunning, spawnNode } from '../../support/processes.ts';
import { FakeSlack } from './fake-slack.ts';
import { APP_TOKEN, BOT_TOKEN, FIXTURE_MODEL } from './harness.ts';

/** `npm run start:slack` as a process on `db`, its combined output. */
export function startSlackProcess(
  f: FakeSlack,
  db: string,
  children: ChildProcess[],
  env: Record<string, string> = {},
) {
  const started = spawnNode('src/bots/slack/main.ts', {
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
  });
  children.push(started.child);
  return started;
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
    killRunning(children);
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
    /** The scratch folder alone, for a test that must not reach any Slack. */
    folder(): string {
      dir = mkdtempSync(join(tmpdir(), prefix));
      return dir;
    },
    /** A process the test spawned itself: killed after the test with the others. */
    track(child: ChildProcess): void {
      children.push(child);
    },
    start: (f: FakeSlack, db: string, env: Record<string, string> = {}) =>
      startSlackProcess(f, db, children, env),
  };
}
