import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileMessage, slackFile } from './harness.ts';
import { useSlackProcesses } from './process.ts';

const processes = useSlackProcesses('annamalai-slack-lost-');

describe('the database directory deleted while the app runs (real process)', () => {
  it('logs it loudly, tells the workspace owner once, and refuses new clips instead of analysing them', async () => {
    const { fake: f, dir } = await processes.setUp();
    f.on('users.list', () => ({
      ok: true,
      members: [{ id: 'U0OWNER', is_primary_owner: true }],
      response_metadata: { next_cursor: '' },
    }));
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    const app = processes.start(f, join(dataDir, 'bot.db'));
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
