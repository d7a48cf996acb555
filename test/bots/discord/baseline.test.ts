import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BaselineKey } from '../../../src/core/ports.ts';
import type { FakeUser } from './fake-discord/server.ts';
import {
  type Any,
  ephemeralReply,
  fixture,
  openWorld,
  type Running,
  resultEdit,
  startBot,
  type World,
} from './harness.ts';

/** `/emotion baseline <sub>` as Discord sends a subcommand of a group. */
function baselineCommand(r: Running, user: FakeUser, sub: 'status' | 'reset') {
  return r.fake.interaction({
    user,
    data: {
      id: '1',
      name: 'emotion',
      type: 1,
      options: [{ type: 2, name: 'baseline', options: [{ type: 1, name: sub }] }],
    },
  });
}

async function status(r: Running, user: FakeUser): Promise<string> {
  return String((await ephemeralReply(r, baselineCommand(r, user, 'status').token)).content);
}

/** One recording of `user` in the server, through `/emotion file`; resolves to the result embed. */
async function record(r: Running, user: FakeUser): Promise<Any> {
  const file = r.fake.fileCommand(
    user,
    r.fake.attachment({ name: 'v.ogg', bytes: fixture('speech-stereo.opus.ogg'), contentType: 'audio/ogg' }),
  );
  return ((await resultEdit(r, file.token)).body as Any).embeds[0];
}

function notesOf(embed: Any): string {
  return String(embed.fields.find((f: Any) => f.name === 'Notes')?.value ?? '');
}

describe('/emotion baseline on Discord (a model with a baseline head: tiny-single, min_recordings 2)', () => {
  let world: World;
  let run: Running;
  beforeAll(async () => {
    world = await openWorld({ MODEL_DIR: 'test/fixtures/models/tiny-single' });
    run = await startBot(world);
  });
  afterAll(async () => {
    await run?.stop();
    await world?.close();
  });
  const keyOf = (user: FakeUser): BaselineKey => ({
    platform: 'discord',
    workspaceId: String(run.fake.guildId),
    userId: String(user.id),
    modelId: 'annamalai-test-fixture-tiny-single',
    modelVersion: '1.0.0',
  });

  it('counts recordings, says when it is in use, and the reply says so once it is; reset starts over', async () => {
    const ravi = run.fake.user('ravi');
    expect(await status(run, ravi)).toMatch(/0 of the 2 recordings needed/);
    expect(notesOf(await record(run, ravi))).not.toMatch(/usual voice/);
    expect(notesOf(await record(run, ravi))).not.toMatch(/usual voice/);
    const s = await status(run, ravi);
    expect(s).toMatch(/in use, from 2 recordings/);
    expect(s).toMatch(/never audio/);
    expect(notesOf(await record(run, ravi))).toMatch(/Compared with your usual voice, 2 recordings\./);

    const reset = baselineCommand(run, ravi, 'reset');
    expect((await ephemeralReply(run, reset.token)).content).toMatch(/voice baseline here is deleted/);
    expect(await status(run, ravi)).toMatch(/0 of the 2 recordings needed/);
    expect(await world.services.storage?.baselines.stats(keyOf(ravi))).toBeUndefined();
  });

  it('forget deletes it with the results; opting out deletes it and keeps it from being built', async () => {
    const { fake } = run;
    const sita = fake.user('sita');
    await record(run, sita);
    expect((await world.services.storage?.baselines.stats(keyOf(sita)))?.count).toBe(1);
    const message = { ...fake.message({ author: fake.botUser, content: 'Delete?' }), flags: 64 };
    const click = fake.button(sita, 'forget:yes', message);
    await fake.waitFor(() => fake.forInteraction(click.token).find((q) => (q.body as Any)?.type === 7));
    expect(await world.services.storage?.baselines.stats(keyOf(sita))).toBeUndefined();

    await record(run, sita);
    const opt = fake.slash(sita, 'optout');
    expect((await ephemeralReply(run, opt.token)).content).toMatch(/voice baseline is deleted/);
    expect(await world.services.storage?.baselines.stats(keyOf(sita))).toBeUndefined();
    expect(await status(run, sita)).toMatch(/You opted out/);
  });
});

describe('/emotion baseline on Discord with a model without a baseline head (tiny)', () => {
  let world: World;
  let run: Running;
  beforeAll(async () => {
    world = await openWorld();
    run = await startBot(world);
  });
  afterAll(async () => {
    await run?.stop();
    await world?.close();
  });

  it('says there is none, and recordings keep nothing', async () => {
    const tara = run.fake.user('tara');
    expect(await status(run, tara)).toMatch(/has no voice baseline/);
    expect(notesOf(await record(run, tara))).not.toMatch(/usual voice/);
    expect(
      await world.services.storage?.baselines.stats({
        platform: 'discord',
        workspaceId: String(run.fake.guildId),
        userId: String(tara.id),
        modelId: 'annamalai-test-fixture-tiny',
        modelVersion: '1.0.0',
      }),
    ).toBeUndefined();
  });
});
