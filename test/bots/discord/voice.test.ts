import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import prism from 'prism-media';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDiscordConfig } from '../../../src/bots/discord/config.ts';
import { analyzeSpeakers, SpeakerCollector } from '../../../src/bots/discord/speakers.ts';
import { createVoiceCommands, type ListeningConnection } from '../../../src/bots/discord/voice.ts';
import { createLogger } from '../../../src/log.ts';
import type { FakeDiscord, FakeUser } from './fake-discord/server.ts';
import { type Any, openWorld, type Running, startBot, type World } from './harness.ts';

/** The Opus packets of an Ogg Opus file made with opusenc from speech: what a voice receiver hands out. */
async function opusPackets(path: string): Promise<Buffer[]> {
  const packets: Buffer[] = [];
  const demuxer = Readable.from([readFileSync(path)]).pipe(new prism.opus.OggDemuxer());
  for await (const packet of demuxer) packets.push(packet as Buffer);
  return packets;
}

let world: World;
beforeAll(async () => {
  world = await openWorld();
});
afterAll(async () => world?.close());

describe('voice receive: per-speaker Opus → PCM → the core pipeline', () => {
  it('keeps two interleaved speakers apart, drops the opted-out one before decoding, and analyses each', async () => {
    const alice = await opusPackets('samples/hello.ogg'); // ~14.4 s, opusenc
    const bob = await opusPackets('test/fixtures/audio/speech-stereo.opus.ogg'); // ~3.9 s, opusenc, stereo
    const optedOut = new Set(['carol']);
    const collector = new SpeakerCollector({
      isOptedOut: (id) => optedOut.has(id),
      maxSecondsPerSpeaker: 60,
    });
    expect(collector.wants('carol')).toBe(false); // the receiver never subscribes to her
    // Interleave by time as a receiver would deliver them: 20-ms packets; bob starts at 2 s, carol at 1 s.
    const events: { at: number; user: string; packet: Buffer }[] = [
      ...alice.map((packet, i) => ({ at: i * 20, user: 'alice', packet })),
      ...bob.map((packet, i) => ({ at: 2000 + i * 20, user: 'bob', packet })),
      ...bob.map((packet, i) => ({ at: 1000 + i * 20, user: 'carol', packet })),
    ].sort((a, b) => a.at - b.at);
    for (const e of events) collector.push(e.user, e.packet, e.at);

    expect(collector.droppedPackets).toBe(bob.length);
    expect(collector.decodedPackets()).toEqual(
      new Map([
        ['alice', alice.length],
        ['bob', bob.length],
      ]),
    );
    const pcm = await collector.finish();
    expect([...pcm.keys()]).toEqual(['alice', 'bob']);
    expect((pcm.get('alice')?.length ?? 0) / 16_000).toBeCloseTo(alice.length * 0.02, 0);
    expect((pcm.get('bob')?.length ?? 0) / 16_000).toBeCloseTo(bob.length * 0.02, 0);

    const analyzer = {
      ...world.services.analyzer,
      decoder: world.services.analyzer.decoder,
    };
    const results = await analyzeSpeakers(analyzer, pcm, (userId) => ({
      platform: 'discord',
      userId,
      channelId: 'c',
    }));
    const a = results.get('alice');
    const b = results.get('bob');
    expect(a?.status).toBe('ok');
    expect(b?.status).toBe('ok');
    if (a?.status !== 'ok' || b?.status !== 'ok') return;
    expect(a.segments.map((s) => s.startS)).toEqual([0, 5, 10]);
    expect(b.segments).toHaveLength(1);
    expect(b.summary.dominant).not.toBeNull();
    expect(await world.store.userHistory('discord', 'carol', 5)).toEqual([]);
    expect(await world.store.userHistory('discord', 'alice', 5)).toHaveLength(1);
  });

  it('keeps a speaker’s pauses as silence so segments follow the conversation clock', async () => {
    const bob = await opusPackets('test/fixtures/audio/speech-stereo.opus.ogg');
    const collector = new SpeakerCollector({ isOptedOut: () => false, maxSecondsPerSpeaker: 60 });
    for (const [i, p] of bob.entries()) collector.push('bob', p, i * 20);
    for (const [i, p] of bob.entries()) collector.push('bob', p, 12_000 + i * 20); // speaks again after a long pause
    const pcm = (await collector.finish()).get('bob');
    expect((pcm?.length ?? 0) / 16_000).toBeCloseTo(12 + bob.length * 0.02, 0);
    const analyzer = {
      ...world.services.analyzer,
      decoder: world.services.analyzer.decoder,
    };
    const result = (
      await analyzeSpeakers(analyzer, new Map([['bob', pcm ?? new Float32Array()]]), () => ({
        platform: 'test',
      }))
    ).get('bob');
    expect(result?.status === 'ok' && result.segments.map((s) => s.kind)).toEqual([
      'speech',
      'silence',
      'speech',
    ]);
  });

  it('treats a speaker as opted out until the settings store has answered', () => {
    const known = new Map<string, boolean>();
    const collector = new SpeakerCollector({
      isOptedOut: (id) => known.get(id) ?? true,
      maxSecondsPerSpeaker: 5,
    });
    collector.push('newcomer', Buffer.from([0xf8, 0xff, 0xfe]), 0);
    expect(collector.droppedPackets).toBe(1);
    known.set('newcomer', false);
    expect(collector.wants('newcomer')).toBe(true);
  });
});

describe('/emotion listen against the fake gateway (as far as a fake reaches)', () => {
  let run: Running;
  beforeAll(async () => {
    run = await startBot(
      world,
      {},
      {
        voice: createVoiceCommands({
          settings: world.settings,
          analyzer: world.services.analyzer,
          logger: createLogger('silent'),
          config: (await import('../../../src/bots/discord/config.ts')).loadDiscordConfig({
            DISCORD_TOKEN: 'x',
            DISCORD_APPLICATION_ID: '123456789012345678',
          }),
          joinTimeoutMs: 500,
        }),
      },
    );
  });
  afterAll(async () => run?.stop());

  function ephemeral(token: string) {
    return run.fake.waitFor(() =>
      run.fake
        .forInteraction(token)
        .find((q) => (((q.body as Any)?.data?.flags ?? (q.body as Any)?.flags ?? 0) & 64) === 64),
    );
  }

  it('asks the caller to join a voice channel first', async () => {
    const { token } = run.fake.slash(run.fake.user('nochan'), 'listen');
    const q = await ephemeral(token);
    expect((q.body as Any).data.content).toMatch(/Join a voice channel first/);
  });

  it('posts a visible notice, asks the gateway to join undeafened, and says so when no voice connection comes', async () => {
    const { fake } = run;
    const user = fake.user('speaker');
    fake.dispatch('VOICE_STATE_UPDATE', {
      guild_id: fake.guildId,
      channel_id: fake.voiceChannelId,
      user_id: user.id,
      member: fake.member(user),
      session_id: 'vs',
      deaf: false,
      mute: false,
      self_deaf: false,
      self_mute: false,
      self_video: false,
      suppress: false,
      request_to_speak_timestamp: null,
    });
    await new Promise((r) => setTimeout(r, 100));
    const { token } = fake.slash(user, 'listen', [{ type: 4, name: 'seconds', value: 30 }]);
    const notice = await fake.waitFor(() =>
      fake.forInteraction(token).find((q) => (q.body as Any)?.type === 4),
    );
    expect((notice.body as Any).data.content).toMatch(
      /Listening in <#\d+> for 30 s.*opted out.*not recorded/s,
    );
    expect((notice.body as Any).data.flags ?? 0).toBe(0); // visible to the channel
    const join = await fake.waitFor(() => fake.voiceStates.find((v) => v.channel_id === fake.voiceChannelId));
    expect(join).toMatchObject({ guild_id: fake.guildId, self_deaf: false });
    const q = await ephemeral(token);
    expect((q.body as Any).content).toMatch(/couldn't join the voice channel/);
  });
});

/** Stands in for @discordjs/voice's connection: what its receiver would hand out, nothing more. */
class FakeVoiceConnection implements ListeningConnection {
  readonly speaking = new EventEmitter();
  readonly streams = new Map<string, PassThrough>();
  destroyed = false;
  readonly receiver = {
    speaking: this.speaking,
    subscriptions: this.streams,
    subscribe: (userId: string) => {
      const stream = new PassThrough({ objectMode: true });
      this.streams.set(userId, stream);
      return stream;
    },
  };
  async ready() {}
  destroy() {
    this.destroyed = true;
  }
}

function joinVoice(fake: FakeDiscord, user: FakeUser, channelId: string | null) {
  fake.dispatch('VOICE_STATE_UPDATE', {
    guild_id: fake.guildId,
    channel_id: channelId,
    user_id: user.id,
    member: fake.member(user),
    session_id: `vs-${user.id}`,
    deaf: false,
    mute: false,
    self_deaf: false,
    self_mute: false,
    self_video: false,
    suppress: false,
    request_to_speak_timestamp: null,
  });
}

describe('/emotion listen session wiring (voice connection replaced by a stand-in receiver)', () => {
  let run: Running;
  const connections: FakeVoiceConnection[] = [];
  beforeAll(async () => {
    run = await startBot(
      world,
      {},
      {
        voice: createVoiceCommands({
          settings: world.settings,
          // Voice-channel PCM needs no decoder (core analyzePcm).
          analyzer: world.services.analyzer,
          logger: createLogger('silent'),
          config: loadDiscordConfig({ DISCORD_TOKEN: 'x', DISCORD_APPLICATION_ID: '123456789012345678' }),
          connect: () => {
            const c = new FakeVoiceConnection();
            connections.push(c);
            return c;
          },
        }),
      },
    );
  });
  afterAll(async () => run?.stop());

  it('subscribes only to members who allow analysis and posts one summary per speaker on /emotion stop', async () => {
    const { fake } = run;
    const [alice, bob, carol] = [fake.user('alice'), fake.user('bob'), fake.user('carol')];
    await world.settings.setOptedOut('discord', carol.id, true);
    for (const u of [alice, bob, carol]) joinVoice(fake, u, fake.voiceChannelId);
    await new Promise((r) => setTimeout(r, 100));
    const listen = fake.slash(alice, 'listen');
    await fake.waitFor(
      () => connections[0]?.speaking.listenerCount('start') === 1,
      10_000,
      'the receiver to be wired',
    );
    const conn = connections[0] as FakeVoiceConnection;
    for (const u of [alice, bob, carol]) conn.speaking.emit('start', u.id);
    expect([...conn.streams.keys()]).toEqual([alice.id, bob.id]); // carol is never subscribed
    for (const p of await opusPackets('samples/hello.ogg')) conn.streams.get(alice.id)?.write(p);
    for (const p of await opusPackets('test/fixtures/audio/speech-stereo.opus.ogg'))
      conn.streams.get(bob.id)?.write(p);
    await new Promise((r) => setTimeout(r, 50));

    const stop = fake.slash(alice, 'stop');
    const posts = await fake.waitFor(() => {
      const p = fake.channelRequests(fake.textChannelId).filter((r) => r.method === 'POST');
      return p.length >= 3 && p;
    });
    expect(fake.forInteraction(listen.token)[0]?.body).toMatchObject({
      type: 4,
      data: { content: expect.stringMatching(/Listening in/) },
    });
    expect(fake.forInteraction(stop.token)[0]?.body).toMatchObject({
      type: 4,
      data: { content: 'Stopping — summaries follow.' },
    });
    expect((posts[0]?.body as Any)?.content).toMatch(/Stopped listening \(stopped with \/emotion stop\)/);
    const summaries = posts.slice(1).map((p) => ({
      content: (p.body as Any)?.content,
      title: (p.body as Any)?.embeds[0].title,
      files: p.files.map((f) => f.name),
    }));
    expect(summaries).toEqual([
      {
        content: `<@${alice.id}>`,
        title: expect.stringMatching(/^Voice of alice · 0:14/),
        files: ['timeline.png'],
      },
      {
        content: `<@${bob.id}>`,
        title: expect.stringMatching(/^Voice of bob · 0:0[34]/),
        files: ['timeline.png'],
      },
    ]);
    expect(conn.destroyed).toBe(true);
    expect(await world.store.userHistory('discord', carol.id, 5)).toEqual([]);
  });

  it('leaves when the voice channel empties, saying nobody who allows analysis spoke', async () => {
    const { fake } = run;
    const dora = fake.user('dora');
    joinVoice(fake, dora, fake.voiceChannelId);
    await new Promise((r) => setTimeout(r, 100));
    const before = fake.channelRequests(fake.textChannelId).length;
    fake.slash(dora, 'listen', [{ type: 4, name: 'seconds', value: 20 }]);
    await fake.waitFor(
      () => connections[1]?.speaking.listenerCount('start') === 1,
      10_000,
      'the second session',
    );
    for (const u of fake.users.values()) joinVoice(fake, u, null);
    const post = await fake.waitFor(() =>
      fake
        .channelRequests(fake.textChannelId)
        .slice(before)
        .find((r) => r.method === 'POST'),
    );
    expect((post.body as Any)?.content).toBe(
      'Stopped listening (the channel emptied). Nobody who allows analysis spoke.',
    );
    expect(connections[1]?.destroyed).toBe(true);
  });

  it("leaves when the time is up and posts the speaker's summary", async () => {
    const { fake } = run;
    const eve = fake.user('eve');
    joinVoice(fake, eve, fake.voiceChannelId);
    await new Promise((r) => setTimeout(r, 100));
    const before = fake.channelRequests(fake.textChannelId).length;
    fake.slash(eve, 'listen', [{ type: 4, name: 'seconds', value: 1 }]);
    await fake.waitFor(
      () => connections[2]?.speaking.listenerCount('start') === 1,
      10_000,
      'the third session',
    );
    const conn = connections[2] as FakeVoiceConnection;
    conn.speaking.emit('start', eve.id);
    for (const p of await opusPackets('test/fixtures/audio/speech-stereo.opus.ogg'))
      conn.streams.get(eve.id)?.write(p);
    const posts = await fake.waitFor(() => {
      const p = fake
        .channelRequests(fake.textChannelId)
        .slice(before)
        .filter((r) => r.method === 'POST');
      return p.length >= 2 && p;
    });
    expect((posts[0]?.body as Any)?.content).toMatch(/Stopped listening \(time is up\)/);
    expect((posts[1]?.body as Any)?.embeds[0].title).toMatch(/^Voice of eve/);
  });
});
