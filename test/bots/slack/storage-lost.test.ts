import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeSlack } from './fake-slack.ts';
import { fileMessage, slackFile } from './harness.ts';
import { startSlackProcess } from './process.ts';

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

describe('the database directory deleted while the app runs (real process)', () => {
  it('logs it loudly, tells the workspace owner once, and refuses new clips instead of analysing them', async () => {
    fake = await FakeSlack.start();
    const f = fake;
    f.on('users.list', () => ({
      ok: true,
      members: [{ id: 'U0OWNER', is_primary_owner: true }],
      response_metadata: { next_cursor: '' },
    }));
    dir = mkdtempSync(join(tmpdir(), 'annamalai-slack-lost-'));
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    const app = startSlackProcess(f, join(dataDir, 'bot.db'), children);
    await f.waitFor(() => /Slack app started/.test(app.out.text), 20_000, 'the app to connect');

    rmSync(dataDir, { recursive: true, force: true });
    await f.waitFor(() => /STORAGE LOST/.test(app.out.text), 20_000, 'the loss to be noticed');
    const notice = await f.waitFor(
      () => f.callsOf('chat.postMessage').find((c) => c.args.channel === 'U0OWNER'),
      20_000,
      "the owner's DM",
    );
    expect(String(notice.args.text)).toMatch(/lost its database/);

    await f.deliver('events_api', f.eventPayload(fileMessage(f, 'D0ALICE', [slackFile(f, 'speech.m4a')])));
    const refusal = await f.waitFor(() => f.callsOf('chat.postEphemeral')[0], 20_000, 'the refusal');
    expect(String(refusal.args.text)).toMatch(/I cannot store results right now/);
    expect(f.fileRequests).toHaveLength(0);
    expect(f.callsOf('chat.postMessage')).toHaveLength(1); // the owner's notice only
    expect(app.out.text).toMatch(/"level":50[^\n]*STORAGE LOST/);
  });
});
