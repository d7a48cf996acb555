import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Any,
  EPHEMERAL,
  ephemeralReply,
  fixture,
  openWorld,
  type Running,
  resultEdit,
  startBot,
  type World,
} from './harness.ts';

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

function voiceNote(r: Running) {
  return r.fake.attachment({
    name: 'voice-message.ogg',
    bytes: fixture('speech-stereo.opus.ogg'),
    contentType: 'audio/ogg',
    durationSecs: 4,
  });
}

describe('members: context menu, settings, opt-out, history, forget', () => {
  it('"Analyze emotions" on a voice message analyses it and stores it under its author', async () => {
    const { fake } = run;
    const author = fake.user('dave');
    const caller = fake.user('erin');
    const target = fake.message({ author, voice: true, attachments: [voiceNote(run)] });
    const { token } = fake.contextMenu(caller, target);
    const edit = await resultEdit(run, token);
    expect((edit.body as Any).embeds[0].title).toMatch(/^voice-message\.ogg/);
    expect((await world.store.userHistory('discord', author.id, 5)).length).toBe(1);
  });

  it('"Analyze emotions" on a message without audio says so, ephemerally', async () => {
    const { fake } = run;
    const u = fake.user('frank');
    const target = fake.message({ author: u, content: 'hi' });
    const { token } = fake.contextMenu(u, target);
    expect((await ephemeralReply(run, token)).content).toMatch(/no audio attachment or voice message/);
  });

  it('denies /emotion settings to a member without Manage Server', async () => {
    const { fake } = run;
    const { token } = fake.slash(fake.user('mallory'), 'settings', [{ type: 5, name: 'auto', value: true }], {
      admin: false,
    });
    expect((await ephemeralReply(run, token)).content).toMatch(/Manage Server/);
    expect((await world.settings.workspace('discord', fake.guildId)).autoAnalysisChannels).toEqual([]);
  });

  it('lets an admin set the digest channel and retention, and warns that auto-analysis needs Message Content', async () => {
    const { fake } = run;
    const { token } = fake.slash(
      fake.user('admin'),
      'settings',
      [
        { type: 5, name: 'auto', value: true },
        { type: 4, name: 'retention_days', value: 30 },
      ],
      { admin: true },
    );
    const answer = await ephemeralReply(run, token);
    expect(answer.content).toMatch(/Results kept: 30 days/);
    expect(answer.content).toMatch(/without the Message Content intent/);
    const settings = await world.settings.workspace('discord', fake.guildId);
    expect(settings).toMatchObject({ autoAnalysisChannels: [fake.textChannelId], retentionDays: 30 });
  });

  it('without the Message Content intent a server voice message arrives without audio and is not answered', async () => {
    const { fake, bot } = run;
    const sent = fake.sendMessage(
      fake.message({ author: fake.user('gina'), voice: true, attachments: [voiceNote(run)] }),
    );
    expect(sent.attachments).toEqual([]); // what Discord really sends without the intent
    await new Promise((r) => setTimeout(r, 300));
    await bot.idle();
    expect(fake.channelRequests(fake.textChannelId)).toEqual([]);
    expect(world.logs.join('')).toMatch(/Message Content intent is off/);
  });

  it('honours an opt-out: no analysis of their DMs or, through the context menu, of their messages', async () => {
    const { fake } = run;
    const olga = fake.user('olga');
    const opt = fake.slash(olga, 'optout');
    expect((await ephemeralReply(run, opt.token)).content).toMatch(/will not analyse your voice/);
    const dm = fake.dmChannel(olga);
    fake.sendMessage(
      fake.message({ author: olga, guild: false, channelId: dm, voice: true, attachments: [voiceNote(run)] }),
    );
    const reply = await fake.waitFor(() => fake.channelRequests(dm).find((r) => r.method === 'POST'));
    expect((reply.body as Any).content).toMatch(/You opted out/);
    const menu = fake.contextMenu(
      fake.user('peter'),
      fake.message({ author: olga, voice: true, attachments: [voiceNote(run)] }),
    );
    expect((await ephemeralReply(run, menu.token)).content).toMatch(/opted out of emotion analysis/);
    expect(await world.store.userHistory('discord', olga.id, 5)).toEqual([]);
    // And opting back in works.
    const optin = fake.slash(olga, 'optin');
    expect((await ephemeralReply(run, optin.token)).content).toMatch(/Welcome back/);
    expect(await world.settings.isOptedOut('discord', olga.id)).toBe(false);
  });

  it('shows /emotion history only to the caller, and /emotion forget deletes everything after the confirmation button', async () => {
    const { fake } = run;
    const quinn = fake.user('quinn');
    const file = fake.fileCommand(
      quinn,
      fake.attachment({ name: 'q.ogg', bytes: fixture('speech-stereo.opus.ogg'), contentType: 'audio/ogg' }),
    );
    await resultEdit(run, file.token);
    const bad = fake.fileCommand(
      quinn,
      fake.attachment({ name: 'p.png', bytes: fixture('image.png'), contentType: 'image/png' }),
    );
    await ephemeralReply(run, bad.token);

    const history = fake.slash(quinn, 'history');
    const h = (await ephemeralReply(run, history.token)).content as string;
    expect(h).toMatch(/q\.ogg — 0:04, mostly \w+/);
    expect(h).toMatch(/p\.png — failed: /);

    const forget = fake.slash(quinn, 'forget');
    const ask = await ephemeralReply(run, forget.token);
    expect(ask.content).toMatch(/Delete \*\*all\*\*/);
    expect(ask.components[0].components.map((c: Any) => c.custom_id)).toEqual(['forget:yes', 'forget:no']);
    expect(await world.store.userHistory('discord', quinn.id, 10)).toHaveLength(2); // nothing deleted yet

    const message = { ...fake.message({ author: fake.botUser, content: ask.content }), flags: EPHEMERAL };
    const click = fake.button(quinn, 'forget:yes', message);
    const update = await fake.waitFor(() =>
      fake.forInteraction(click.token).find((q) => (q.body as Any)?.type === 7),
    );
    expect((update.body as Any).data.content).toBe('Deleted 2 stored analyses.');
    expect((update.body as Any).data.components).toEqual([]);
    expect(await world.store.userHistory('discord', quinn.id, 10)).toEqual([]);
  });
});

describe('auto-analysis with the Message Content intent enabled', () => {
  let mc: Running;
  beforeAll(async () => {
    mc = await startBot(world, { DISCORD_MESSAGE_CONTENT_INTENT: 'true' });
  });
  afterAll(async () => mc?.stop());

  it('identifies with Message Content only when configured to', () => {
    expect(mc.fake.identifyIntents & (1 << 15)).toBe(1 << 15);
  });

  it('ignores voice messages in a channel until an admin turns auto-analysis on, then replies to them', async () => {
    const { fake, bot } = mc;
    // Off (the default): nothing.
    const otherGuildSettings = await world.settings.workspace('discord', fake.guildId);
    expect(otherGuildSettings.autoAnalysisChannels).toEqual([]);
    fake.sendMessage(fake.message({ author: fake.user('rita'), voice: true, attachments: [voiceNote(mc)] }));
    await new Promise((r) => setTimeout(r, 300));
    await bot.idle();
    expect(fake.channelRequests(fake.textChannelId)).toEqual([]);

    const on = fake.slash(fake.user('boss'), 'settings', [{ type: 5, name: 'auto', value: true }], {
      admin: true,
    });
    const answer = await ephemeralReply(mc, on.token);
    expect(answer.content).toMatch(
      new RegExp(`Auto-analysis of voice messages in: <#${fake.textChannelId}>`),
    );
    expect(answer.content).not.toMatch(/Message Content intent/);

    const voice = fake.sendMessage(
      fake.message({ author: fake.user('sam'), voice: true, attachments: [voiceNote(mc)] }),
    );
    const edit = await fake.waitFor(() =>
      fake
        .channelRequests(fake.textChannelId)
        .find((r) => r.method === 'PATCH' && ((r.body as Any)?.embeds?.length ?? 0) > 0),
    );
    const post = fake.channelRequests(fake.textChannelId).find((r) => r.method === 'POST');
    expect((post?.body as Any)?.message_reference.message_id).toBe(voice.id);
    expect(edit.files[0]?.name).toBe('timeline.png');
    // Ordinary (non-voice) audio in that channel is not auto-analysed.
    fake.sendMessage(fake.message({ author: fake.user('tom'), attachments: [voiceNote(mc)] }));
    await new Promise((r) => setTimeout(r, 300));
    await bot.idle();
    expect(fake.channelRequests(fake.textChannelId).filter((r) => r.method === 'POST')).toHaveLength(1);
  });
});
