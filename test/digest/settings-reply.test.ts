import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteDigestStore } from '../../src/storage/digest-store.ts';
import {
  type Any,
  EPHEMERAL,
  openWorld,
  type Running,
  startBot,
  type World,
} from '../bots/discord/harness.ts';
import { TEAM } from '../bots/slack/fake-slack.ts';
import { closeClassifier, type Harness, slashCommand, startHarness } from '../bots/slack/harness.ts';
import { FakeClock } from '../support/twins.ts';

/**
 * A schedule mistake must reach the admin who typed it, through the real discord.js and Bolt clients:
 * the settings answer names the mistyped day, and no digest is stored.
 */

const clock = new FakeClock('2026-06-01T00:00:00Z');
let world: World;
let run: Running;
let discordDigests: SqliteDigestStore;
let slack: Harness;

beforeAll(async () => {
  world = await openWorld();
  discordDigests = new SqliteDigestStore({ path: join(world.dir, 'bot.db') });
  run = await startBot(world, {}, { digest: { store: discordDigests, clock } });
  slack = await startHarness({ digestClock: clock });
});
afterAll(async () => {
  await run?.stop();
  await discordDigests?.close();
  await world?.close();
  await slack?.close();
  await closeClassifier();
});

describe('a mistyped weekday in the digest settings', () => {
  it('is answered on Discord with the reason, ephemerally, and stores nothing', async () => {
    const { fake } = run;
    const { token } = fake.slash(
      fake.user('admin1'),
      'settings',
      [{ type: 3, name: 'digest_schedule', value: 'weekly fir 17:00' }],
      { admin: true },
    );
    const q = await fake.waitFor(
      () =>
        fake
          .forInteraction(token)
          .find(
            (r) =>
              r.path.endsWith('/callback') &&
              (r.body as Any)?.type === 4 &&
              ((r.body as Any).data.flags & EPHEMERAL) === EPHEMERAL,
          ),
      20_000,
      'an ephemeral answer',
    );
    expect((q.body as Any).data.content).toMatch(
      /Nothing was changed: "fir" is not a day of the week.*Did you mean friday\?/,
    );
    expect(await discordDigests.workspaceConfigs('discord', fake.guildId)).toEqual([]);
  });

  it('is answered on Slack with the reason, ephemerally, and stores nothing', async () => {
    const { fake } = slack;
    fake.users.set('U0ADMIN', { id: 'U0ADMIN', is_admin: true, is_owner: false });
    const c = slashCommand(fake, 'settings digest schedule weekly thrusday 17:00', {
      user: 'U0ADMIN',
      channel: 'C0CLIPS',
    });
    await fake.deliver('slash_commands', c.payload, true);
    const r = await fake.waitFor(() => fake.responses.find((x) => x.id === c.id), 10_000, 'the response');
    expect(r.body.response_type).toBe('ephemeral');
    expect(String(r.body.text)).toMatch(
      /Nothing was changed: "thrusday" is not a day of the week.*Did you mean thursday\?/,
    );
    expect(await slack.digests?.workspaceConfigs('slack', TEAM)).toEqual([]);
  });
});
