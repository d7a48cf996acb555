import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_TOKEN, BOT_TOKEN, FIXTURE_MODEL, fileMessage, slackFile } from './harness.ts';
import { useSlackProcesses } from './process.ts';

const processes = useSlackProcesses('annamalai-slack-main-');

describe('npm run start:slack (the real entry point as a process)', () => {
  it('connects over Socket Mode, answers a clip, and exits cleanly on SIGTERM without logging a token', async () => {
    const { fake, dir } = await processes.setUp();
    const app = processes.start(fake, join(dir, 'bot.db'));
    await fake.waitFor(() => fake.connections, 20_000, 'the Socket Mode connection');
    const event = fileMessage(fake, 'D0ALICE', [slackFile(fake, 'speech.m4a')]);
    await fake.deliver('events_api', fake.eventPayload(event));
    const post = await fake.waitFor(() => fake.callsOf('chat.postMessage')[0], 20_000, 'the Analyzing… post');
    await fake.waitFor(
      () =>
        fake
          .callsOf('chat.update')
          .find((c) => c.args.ts === post.reply?.ts && /Emotions heard/.test(JSON.stringify(c.args.blocks))),
      20_000,
      'the result',
    );
    app.child.kill('SIGTERM');
    await app.exited;
    expect(app.child.exitCode).toBe(0);
    expect(app.out.text).toMatch(/Slack app stopped/);
    expect(app.out.text).not.toContain(BOT_TOKEN);
    expect(app.out.text).not.toContain(APP_TOKEN);
  });

  it('with Slack unreachable (a closed port), gives up within SLACK_CONNECT_TIMEOUT_S and exits 1 with one line naming the API URL', async () => {
    // A port that was free a moment ago and is closed now: every connection is refused.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const dir = processes.folder();
    const apiUrl = `http://127.0.0.1:${port}/api/`;
    let stderr = '';
    const proc = spawn(process.execPath, ['src/bots/slack/main.ts'], {
      env: {
        ...process.env,
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_APP_TOKEN: APP_TOKEN,
        SLACK_API_URL: apiUrl,
        SLACK_CONNECT_TIMEOUT_S: '3',
        MODEL_DIR: FIXTURE_MODEL,
        INFERENCE_DEVICE: 'cpu',
        INFERENCE_WORKERS: '1',
        DATABASE_PATH: join(dir, 'bot.db'),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    processes.track(proc);
    proc.stderr?.on('data', (d) => {
      stderr += String(d);
    });
    const code = await new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    const plain = stderr.split('\n').filter((l) => l && !l.startsWith('{'));
    expect(plain).toEqual([expect.stringMatching(/^Could not connect to Slack at .+ within 3 s: /)]);
    expect(plain[0]).toContain(apiUrl);
    expect(stderr).toMatch(/Slack is not reachable yet; retrying/);
    expect(stderr).not.toContain(BOT_TOKEN);
  });
});
