import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM } from '../../../src/bots/discord/bot.ts';
import { discordDigestPoster } from '../../../src/bots/discord/digest.ts';
import { DigestScheduler } from '../../../src/digest/scheduler.ts';
import { createLogger } from '../../../src/log.ts';
import { SqliteDigestStore } from '../../../src/storage/digest-store.ts';
import { recording } from '../../digest/helpers.ts';
import { FakeClock, LABELS } from '../../support/twins.ts';
import { type Any, EPHEMERAL, openWorld, type Running, startBot, type World } from './harness.ts';

let world: World;
let run: Running;
let digests: SqliteDigestStore;
const clock = new FakeClock('2026-06-01T00:00:00Z');

beforeAll(async () => {
  world = await openWorld();
  digests = new SqliteDigestStore({ path: join(world.dir, 'bot.db') });
  run = await startBot(world, {}, { digest: { store: digests, clock } });
});
afterAll(async () => {
  await run?.stop();
  await digests?.close();
  await world?.close();
});

async function ephemeral(token: string): Promise<Any> {
  const q = await run.fake.waitFor(
    () =>
      run.fake
        .forInteraction(token)
        .find(
          (q) =>
            q.path.endsWith('/callback') &&
            (q.body as Any)?.type === 4 &&
            ((q.body as Any).data.flags & EPHEMERAL) === EPHEMERAL,
        ),
    20_000,
    'an ephemeral answer',
  );
  return (q.body as Any).data;
}

function scheduler(name: string, c = clock) {
  return new DigestScheduler({
    platform: PLATFORM,
    store: world.store,
    settings: world.settings,
    digests,
    clock: c,
    poster: discordDigestPoster(run.bot.client),
    logger: createLogger('silent'),
    labels: LABELS.filter((l) => l !== 'question'),
    claimant: name,
    reloadCron: null,
  });
}

function channelPosts(channelId: string) {
  return run.fake.channelRequests(channelId).filter((r) => r.method === 'POST');
}

describe('Discord: mood digest', () => {
  it('refuses a bad cron expression and an unknown time zone with a clear ephemeral error, storing nothing', async () => {
    const { fake } = run;
    const admin = fake.user('admin1');
    const bad = fake.slash(admin, 'settings', [{ type: 3, name: 'digest_schedule', value: '0 9 * *' }], {
      admin: true,
    });
    expect((await ephemeral(bad.token)).content).toMatch(/Nothing was changed: .*five fields/);
    const tz = fake.slash(admin, 'settings', [{ type: 3, name: 'digest_timezone', value: 'Europe/Gondor' }], {
      admin: true,
    });
    expect((await ephemeral(tz.token)).content).toMatch(
      /Nothing was changed: "Europe\/Gondor" is not a time zone/,
    );
    expect(await digests.workspaceConfigs(PLATFORM, fake.guildId)).toEqual([]);
  });

  it('denies digest settings to a member without Manage Server', async () => {
    const { fake } = run;
    const { token } = fake.slash(
      fake.user('mallory'),
      'settings',
      [{ type: 5, name: 'digest', value: true }],
      {
        admin: false,
      },
    );
    expect((await ephemeral(token)).content).toMatch(/Manage Server/);
    expect(await digests.workspaceConfigs(PLATFORM, fake.guildId)).toEqual([]);
  });

  it('lets an admin turn on a daily digest in Asia/Kolkata with one empty line, and lists it', async () => {
    const { fake } = run;
    const { token } = fake.slash(
      fake.user('admin2'),
      'settings',
      [
        { type: 5, name: 'digest', value: true },
        { type: 3, name: 'digest_schedule', value: 'daily 09:30' },
        { type: 3, name: 'digest_timezone', value: 'Asia/Kolkata' },
        { type: 5, name: 'digest_empty_line', value: true },
      ],
      { admin: true },
    );
    const answer = await ephemeral(token);
    expect(answer.content).toMatch(
      /Mood digest of <#\d+>: on, daily 09:30 \(Asia\/Kolkata\), posted in <#\d+>/,
    );
    expect(answer.content).toMatch(/Results kept: 90 days \(the default\)/);
    expect(await digests.config(PLATFORM, fake.guildId, fake.textChannelId)).toMatchObject({
      enabled: true,
      schedule: 'daily 09:30',
      timeZone: 'Asia/Kolkata',
      emptyLine: true,
      targetChannelId: fake.textChannelId,
    });
  });

  it("digest_channel sets where this channel's digest is posted (and the server default), keeping its schedule", async () => {
    const { fake } = run;
    const moodId = fake.voiceChannelId; // any channel id the fake knows
    const { token } = fake.slash(
      fake.user('admin3'),
      'settings',
      [{ type: 7, name: 'digest_channel', value: moodId }],
      {
        admin: true,
        resolved: {
          channels: {
            [moodId]: { id: moodId, type: 0, name: 'mood', permissions: '0', guild_id: fake.guildId },
          },
        },
      },
    );
    const answer = await ephemeral(token);
    expect(answer.content).toMatch(new RegExp(`daily 09:30 \\(Asia/Kolkata\\), posted in <#${moodId}>`));
    expect(await world.settings.workspace(PLATFORM, fake.guildId)).toMatchObject({ digestChannelId: moodId });
    expect(await digests.config(PLATFORM, fake.guildId, fake.textChannelId)).toMatchObject({
      targetChannelId: moodId,
      schedule: 'daily 09:30',
    });
    // Back to posting in the channel itself, for the tests below.
    await digests.updateConfig(
      { platform: PLATFORM, workspaceId: fake.guildId, channelId: fake.textChannelId },
      { targetChannelId: fake.textChannelId },
      { targetChannelId: '', enabled: true, schedule: '', timeZone: '', emptyLine: false },
      clock.now(),
    );
  });

  it('/emotion digest now answers the caller only (ephemeral, embed and chart), posts nothing in the channel', async () => {
    const { fake } = run;
    await world.store.save(
      recording(
        '2026-05-31T10:00:00Z',
        'u-preview',
        [
          ['happy', 0.9],
          ['sad', 0.85],
        ],
        {
          workspaceId: fake.guildId,
          channelId: fake.textChannelId,
        },
      ),
    );
    clock.set('2026-06-01T05:00:00Z'); // 10:30 IST: the 09:30 digest of 31 May is the latest
    const before = channelPosts(fake.textChannelId).length;
    const { token } = fake.interaction({
      user: fake.user('viewer'),
      data: {
        id: '1',
        name: 'emotion',
        type: 1,
        options: [{ type: 2, name: 'digest', options: [{ type: 1, name: 'now', options: [] }] }],
      },
    });
    const edit = await fake.waitFor(
      () => fake.forInteraction(token).find((q) => q.method === 'PATCH' && (q.files?.length ?? 0) > 0),
      20_000,
      'the preview',
    );
    const deferred = fake.forInteraction(token).find((q) => q.path.endsWith('/callback'));
    expect(((deferred?.body as Any | undefined)?.data?.flags & EPHEMERAL) === EPHEMERAL).toBe(true);
    const embed = (edit.body as Any).embeds[0];
    expect(embed.title).toMatch(/Mood digest · Sun 31 May 2026 \(Asia\/Kolkata\)/);
    expect(embed.description).toMatch(/1 recording, 0.2 min of speech/);
    expect(embed.description).toMatch(
      /High-confidence moments\*\* \(≥ 80%\): 2 — anger 0 · fear 0 · sad 1 · happy 1/,
    );
    expect(edit.files[0]?.name).toBe('mood-digest.png');
    expect(channelPosts(fake.textChannelId).length).toBe(before);
    expect(await digests.runs(PLATFORM, fake.guildId, fake.textChannelId)).toEqual([]);
  });

  it('posts the scheduled digest to the channel through the fake Discord once; a restarted scheduler does not repost', async () => {
    const { fake } = run;
    await world.settings.setOptedOut(PLATFORM, 'u-shy', true);
    await world.store.save(
      recording('2026-06-01T06:00:00Z', 'u-shy', [['anger', 0.99]], {
        workspaceId: fake.guildId,
        channelId: fake.textChannelId,
      }),
    );
    await world.store.save(
      recording('2026-06-01T07:00:00Z', 'u-open', [['neutral', 0.7]], {
        workspaceId: fake.guildId,
        channelId: fake.textChannelId,
      }),
    );
    const first = scheduler('one');
    await first.start();
    const before = channelPosts(fake.textChannelId).length;
    await clock.advanceTo('2026-06-02T04:30:00Z'); // 10:00 IST on 2 June: the 1 June digest is due at 04:00Z
    const posts = channelPosts(fake.textChannelId).slice(before);
    expect(posts).toHaveLength(1);
    const body = posts[0]?.body as Any;
    expect(body.embeds[0].title).toMatch(/Mon 1 Jun 2026/);
    expect(body.embeds[0].description).toMatch(/1 recording, 0.1 min/);
    expect(body.embeds[0].description).not.toMatch(/anger 100%|u-shy|u-open/);
    expect(posts[0]?.files[0]?.name).toBe('mood-digest.png');
    await first.stop();
    const second = scheduler('two', new FakeClock('2026-06-02T04:31:00Z'));
    await second.start();
    await second.stop();
    expect(channelPosts(fake.textChannelId).slice(before)).toHaveLength(1);
    const runs = await digests.runs(PLATFORM, fake.guildId, fake.textChannelId);
    expect(runs.at(-1)).toMatchObject({ status: 'posted', claimedBy: 'one', messageId: expect.any(String) });
  });
});
