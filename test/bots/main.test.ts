import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeDiscord } from './discord/fake-discord/server.ts';
import { fixture, TOKEN } from './discord/harness.ts';
import { FakeSlack } from './slack/fake-slack.ts';
import { APP_TOKEN, BOT_TOKEN, FIXTURE_MODEL, fileMessage, slackFile } from './slack/harness.ts';

const run = promisify(execFile);
/** The environment without any platform credentials of the machine running the tests. */
const clean = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('DISCORD_') && !k.startsWith('SLACK_')),
);

let child: ChildProcess | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
  for (const c of cleanups.splice(0)) await c();
});

describe('npm start (every configured bot in one process)', () => {
  it('refuses to start with no platform configured and says what to set', async () => {
    const error = await run(process.execPath, ['src/bots/main.ts'], { env: clean }).catch((e) => e);
    expect(error.code).toBe(78);
    expect(error.stderr).toMatch(/No bot to start: set DISCORD_TOKEN .* SLACK_BOT_TOKEN/s);
  });

  it('refuses DISCORD_SHARDS with Slack in the same process, and says how to run them apart', async () => {
    const env = {
      ...clean,
      DISCORD_TOKEN: TOKEN,
      DISCORD_APPLICATION_ID: '123456789012345678',
      DISCORD_SHARDS: '2',
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_APP_TOKEN: APP_TOKEN,
    };
    const error = await run(process.execPath, ['src/bots/main.ts'], { env }).catch((e) => e);
    expect(error.code).toBe(78);
    expect(error.stderr).toMatch(/DISCORD_SHARDS .*npm run start:discord.*npm run start:slack/s);
    expect(error.stderr).not.toContain(TOKEN);
  });

  it('answers on Discord and Slack from one process, then exits 0 on SIGTERM without logging a token', async () => {
    const discord = new FakeDiscord();
    await discord.listen();
    const slack = await FakeSlack.start();
    const dir = mkdtempSync(join(tmpdir(), 'annamalai-main-'));
    cleanups.push(
      () => discord.close(),
      () => slack.close(),
      () => rmSync(dir, { recursive: true, force: true }),
    );
    let output = '';
    const proc = spawn(process.execPath, ['src/bots/main.ts'], {
      env: {
        ...clean,
        MODEL_DIR: FIXTURE_MODEL,
        INFERENCE_WORKERS: '1',
        DATABASE_PATH: join(dir, 'bot.db'),
        LOG_LEVEL: 'debug',
        DISCORD_TOKEN: TOKEN,
        DISCORD_APPLICATION_ID: discord.applicationId,
        DISCORD_API_URL: discord.apiUrl,
        DISCORD_CDN_HOSTS: discord.cdnHost,
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_APP_TOKEN: APP_TOKEN,
        SLACK_API_URL: slack.apiUrl,
        SLACK_TEST_FILE_HOST: slack.host,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout?.on('data', (d) => (output += String(d)));
    proc.stderr?.on('data', (d) => (output += String(d)));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));

    await discord.waitFor(() => /discord bot ready/.test(output), 20_000, 'the Discord bot to log in');
    await slack.waitFor(() => slack.connections, 20_000, 'the Socket Mode connection');

    const { token } = discord.fileCommand(
      discord.user('both'),
      discord.attachment({
        name: 's.ogg',
        bytes: fixture('speech-stereo.opus.ogg'),
        contentType: 'audio/ogg',
      }),
    );
    await discord.waitFor(
      () =>
        discord
          .forInteraction(token)
          .find((q) => q.method === 'PATCH' && JSON.stringify(q.body ?? {}).includes('"embeds":[{')),
      20_000,
      'the Discord reply',
    );
    await slack.deliver(
      'events_api',
      slack.eventPayload(fileMessage(slack, 'D0ALICE', [slackFile(slack, 'speech.m4a')])),
    );
    await slack.waitFor(
      () => slack.callsOf('chat.update').find((c) => /Emotions heard/.test(JSON.stringify(c.args.blocks))),
      20_000,
      'the Slack reply',
    );

    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toMatch(/discord bot stopped/);
    expect(output).toMatch(/slack app stopped/);
    for (const secret of [TOKEN, BOT_TOKEN, APP_TOKEN]) expect(output).not.toContain(secret);
  });
});
