import { type ChildProcess, spawn } from 'node:child_process';
import type { FakeSlack } from './fake-slack.ts';
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
