import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM } from '../../../src/bots/slack/app.ts';
import { slackDigestPoster } from '../../../src/bots/slack/digest.ts';
import { DigestScheduler } from '../../../src/digest/scheduler.ts';
import { createLogger } from '../../../src/log.ts';
import { SqliteDigestStore } from '../../../src/storage/digest-store.ts';
import { SqliteSettingsStore } from '../../../src/storage/settings-store.ts';
import { SqliteStore } from '../../../src/storage/sqlite-store.ts';
import { recording } from '../../digest/helpers.ts';
import { FakeClock, LABELS } from '../../support/twins.ts';
import { type FakeSlack, TEAM } from './fake-slack.ts';
import { closeClassifier, type Harness, slashCommand, startHarness } from './harness.ts';

const CLIPS = 'C0CLIPS';
let h: Harness;
const clock = new FakeClock('2026-03-01T00:00:00Z');
const extra: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  h = await startHarness({ digestClock: clock });
});
afterEach(async () => {
  while (extra.length) await extra.pop()?.close();
});
afterAll(async () => {
  await h?.close();
  await closeClassifier();
});

function digests(): SqliteDigestStore {
  if (!h.digests) throw new Error('no digest store');
  return h.digests;
}

function command(fake: FakeSlack, text: string, user = 'U0ADMIN', channel = CLIPS) {
  return slashCommand(fake, text, { user, channel });
}

async function say(text: string, user = 'U0ADMIN'): Promise<string> {
  h.fake.users.set('U0ADMIN', { id: 'U0ADMIN', is_admin: true, is_owner: false });
  const c = command(h.fake, text, user);
  await h.fake.deliver('slash_commands', c.payload, true);
  const r = await h.fake.waitFor(() => h.fake.responses.find((x) => x.id === c.id), 10_000, 'the response');
  expect(r.body.response_type).toBe('ephemeral');
  return String(r.body.text);
}

/** A scheduler as a separate bot process would run it: its own connections to the same file. */
function processOn(name: string, at: string) {
  const store = new SqliteStore({ path: h.dbPath });
  const settings = new SqliteSettingsStore({ path: h.dbPath });
  const own = new SqliteDigestStore({ path: h.dbPath });
  const c = new FakeClock(at);
  const scheduler = new DigestScheduler({
    platform: PLATFORM,
    store,
    settings,
    digests: own,
    clock: c,
    poster: slackDigestPoster(h.bot.app.client, createLogger('silent')),
    logger: createLogger('silent'),
    labels: LABELS.filter((l) => l !== 'question'),
    claimant: name,
    reloadCron: null,
    retryDelaysMs: [60_000],
  });
  const proc = {
    scheduler,
    clock: c,
    async close() {
      await scheduler.stop();
      await Promise.all([store.close(), settings.close(), own.close()]);
    },
  };
  extra.push(proc);
  return proc;
}

/** Digests Slack accepted (the fake records refused calls too). */
const digestPosts = () =>
  h.fake
    .callsOf('chat.postMessage')
    .filter((c) => /Mood digest/.test(String(c.args.text)) && c.reply?.ok === true);

describe('Slack: mood digest (real Bolt, fake Slack)', () => {
  it('refuses a bad cron expression and an unknown time zone clearly, and non-admins entirely', async () => {
    expect(await say('settings digest schedule 0 9 * *')).toMatch(/Nothing was changed: .*five fields/);
    expect(await say('settings digest timezone Europe/Nowhere')).toMatch(
      /Nothing was changed: "Europe\/Nowhere" is not a time zone I know/,
    );
    expect(await say('settings digest on', 'U0BOB')).toMatch(/Only workspace admins and owners/);
    expect(await h.settings.workspace(PLATFORM, TEAM)).toMatchObject({ digestChannelId: null });
    expect(await digests().workspaceConfigs(PLATFORM, TEAM)).toEqual([]);
  });

  it('an admin sets a weekly Friday 17:00 digest for this channel in Europe/London, posted in #mood, and sees it listed', async () => {
    expect(await say('settings digest schedule weekly fri 17:00')).toMatch(
      /Mood digest of <#C0CLIPS>: on, weekly fri 17:00 \(UTC\), posted in <#C0CLIPS>/,
    );
    expect(await say('settings digest timezone Europe/London')).toMatch(
      /weekly fri 17:00 \(Europe\/London\)/,
    );
    const listed = await say('settings digest to <#C0MOOD|mood>');
    expect(listed).toMatch(/posted in <#C0MOOD>/);
    expect(listed).toMatch(/\*Mood digests:\*\n• <#C0CLIPS>: on/);
    expect(listed).toMatch(/\*Retention:\* 90 days \(the default\)/);
  });

  it('/emotion digest now answers only the caller (ephemeral response), posts nothing, records nothing', async () => {
    await h.store.save(
      recording(
        '2026-02-25T12:00:00Z',
        'U0ALICE',
        [
          ['fear', 0.92],
          ['neutral', 0.6],
        ],
        {
          platform: PLATFORM,
          workspaceId: TEAM,
          channelId: CLIPS,
        },
      ),
    );
    clock.set('2026-03-01T00:00:00Z'); // Sunday: the latest fire was Friday 27 Feb 17:00 London
    const before = h.fake.callsOf('chat.postMessage').length;
    const text = await say('digest now', 'U0ALICE');
    expect(text).toMatch(/Preview of this channel’s mood digest \(only you see it/);
    expect(text).toMatch(/\*Mood digest · Fri 20 Feb – Thu 26 Feb 2026 \(Europe\/London\)\*/);
    expect(text).toMatch(/1 recording, 0.2 min of speech/);
    expect(text).toMatch(/fear 1/);
    expect(text).not.toMatch(/U0ALICE/);
    expect(h.fake.callsOf('chat.postMessage').length).toBe(before);
    expect(await digests().runs(PLATFORM, TEAM, CLIPS)).toEqual([]);
  });

  it('two bot processes on one database post the Friday digest once to the target channel, with the chart in its thread', async () => {
    await h.settings.setOptedOut(PLATFORM, 'U0SHY', true);
    await h.store.save(
      recording('2026-03-02T10:00:00Z', 'U0SHY', [['anger', 0.99]], {
        platform: PLATFORM,
        workspaceId: TEAM,
        channelId: CLIPS,
      }),
    );
    await h.store.save(
      recording('2026-03-03T10:00:00Z', 'U0ALICE', [['happy', 0.95]], {
        platform: PLATFORM,
        workspaceId: TEAM,
        channelId: CLIPS,
      }),
    );
    const a = processOn('A', '2026-03-06T16:59:00Z');
    const b = processOn('B', '2026-03-06T16:59:00Z');
    await Promise.all([a.scheduler.start(), b.scheduler.start()]);
    const before = digestPosts().length;
    await Promise.all([a.clock.advanceTo('2026-03-06T17:05:00Z'), b.clock.advanceTo('2026-03-06T17:05:00Z')]);
    const posts = digestPosts().slice(before);
    expect(posts).toHaveLength(1);
    expect(posts[0]?.args.channel).toBe('C0MOOD');
    const blocks = JSON.stringify(posts[0]?.args.blocks);
    expect(blocks).toMatch(/1 recording/);
    expect(blocks).toMatch(/happy 100%/);
    expect(blocks).not.toMatch(/anger 1|U0SHY|U0ALICE/);
    const upload = await h.fake.waitFor(
      () =>
        h.fake.callsOf('files.completeUploadExternal').find((c) => c.args.thread_ts === posts[0]?.reply?.ts),
      10_000,
      'the chart upload',
    );
    expect(upload.args.channel_id).toBe('C0MOOD');
  });

  it('a chat.postMessage failure marks the digest failed; the retry a minute later posts it once', async () => {
    await say('settings digest schedule daily 07:00');
    const p = processOn('R', '2026-03-10T06:59:00Z');
    await p.scheduler.start();
    await say('settings digest empty line');
    h.fake.failNext('chat.postMessage', { body: { ok: false, error: 'channel_not_found' } });
    const before = digestPosts().length;
    await p.clock.advanceTo('2026-03-10T07:00:30Z');
    expect(h.fake.callsOf('chat.postMessage').at(-1)?.reply).toMatchObject({ ok: false });
    expect(await digests().runs(PLATFORM, TEAM, CLIPS)).toContainEqual(
      expect.objectContaining({ status: 'failed', attempts: 1 }),
    );
    p.clock.set('2026-03-10T07:01:00Z');
    expect((await p.scheduler.tick()).posted).toEqual([`${TEAM}/${CLIPS}`]);
    await p.scheduler.tick();
    const posts = digestPosts().slice(before);
    expect(posts).toHaveLength(1);
    expect(String(posts[0]?.args.text)).toMatch(
      /^Mood digest for <#C0CLIPS>: no recordings were analysed on Mon 9 Mar 2026\.$/,
    );
  });
});
