import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateFfmpeg } from '../../../src/audio/index.ts';
import type { EmotionClassifier } from '../../../src/core/ports.ts';
import { slowed } from '../../support/twins.ts';
import {
  type Any,
  ephemeralReply,
  fixture,
  openWorld,
  type Running,
  resultEdit,
  startBot,
  TOKEN,
  type World,
} from './harness.ts';

let world: World;
let run: Running;
beforeAll(async () => {
  world = await openWorld({ MAX_INPUT_MB: '1' });
  run = await startBot(world);
});
afterAll(async () => {
  if (process.env.DEBUG_LOGS) console.log(world.logs.join(''));
  await run?.stop();
  await world?.close();
});

const PNG = [0x89, 0x50, 0x4e, 0x47];

describe('Discord bot against a fake Discord (real discord.js, onnxruntime, SQLite, ffmpeg)', () => {
  it('logs in with minimal non-privileged intents (no Message Content)', () => {
    const { fake } = run;
    expect(fake.identifies).toBe(1);
    // Guilds | GuildMessages | GuildVoiceStates | DirectMessages
    expect(fake.identifyIntents).toBe((1 << 0) | (1 << 9) | (1 << 7) | (1 << 12));
  });

  it('replies to a voice message in a DM with an embed and a PNG timeline chart', async () => {
    const { fake } = run;
    const alice = fake.user('alice');
    const attachment = fake.attachment({
      name: 'voice-message.ogg',
      bytes: fixture('speech-stereo.opus.ogg'),
      contentType: 'audio/ogg',
      durationSecs: 4,
    });
    const dm = fake.dmChannel(alice);
    fake.sendMessage(
      fake.message({ author: alice, guild: false, channelId: dm, voice: true, attachments: [attachment] }),
    );
    const edit = await fake.waitFor(
      () =>
        fake
          .channelRequests(dm)
          .find((r) => r.method === 'PATCH' && (r.body?.embeds as unknown[] | undefined)?.length),
      20_000,
      'the edited reply with the embed',
    );
    const placeholder = fake.channelRequests(dm).find((r) => r.method === 'POST');
    expect(placeholder?.body?.message_reference).toMatchObject({ message_id: expect.any(String) });
    const embed = (edit.body as Any).embeds[0] as Any;
    expect(embed.title).toMatch(/^Voice message · 0:0\d/);
    expect(embed.description).toMatch(/0:00–0:0\d .+ \d+% · .+ \d+% · .+ \d+%/);
    expect(embed.fields[0]).toMatchObject({ name: 'Overall' });
    expect(embed.footer.text).toMatch(/not facts about a person/);
    expect(embed.footer.text).toMatch(/test fixture/);
    expect(embed.image.url).toBe('attachment://timeline.png');
    expect(edit.files).toHaveLength(1);
    expect(edit.files[0]?.name).toBe('timeline.png');
    expect([...(edit.files[0]?.bytes.slice(0, 4) ?? [])]).toEqual(PNG);
    // Authenticated with the bot token, which never reaches the logs.
    expect(edit.authorization).toBe(`Bot ${TOKEN}`);
    expect(world.logs.join('')).not.toContain(TOKEN);
    const history = await world.store.userHistory('discord', alice.id, 5);
    expect(history).toHaveLength(1);
    expect(history[0]?.outcome.status).toBe('ok');
  });
});

describe('/emotion file', () => {
  it('defers, then edits the reply with the embed and the chart for a good file', async () => {
    const { fake } = run;
    const bob = fake.user('bob');
    const att = fake.attachment({
      name: 'speech.m4a',
      bytes: fixture('speech.m4a'),
      contentType: 'audio/mp4',
    });
    const { token } = fake.fileCommand(bob, att);
    const edit = await resultEdit(run, token);
    const calls = fake.forInteraction(token);
    expect((calls[0]?.body as Any)?.type).toBe(5); // DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, before any work
    expect((edit.body as Any).embeds[0].title).toMatch(/^speech\.m4a · /);
    expect(edit.files.map((f) => f.name)).toEqual(['timeline.png']);
  });

  it('a file name too long for the embed title is cut before an emoji, never through it', async () => {
    const { fake } = run;
    // The title limit (256) falls between the two halves of 😀's surrogate pair.
    const name = `${'a'.repeat(254)}😀 voice 👩‍👩‍👧.m4a`;
    const att = fake.attachment({ name, bytes: fixture('speech.m4a'), contentType: 'audio/mp4' });
    const { token } = fake.fileCommand(fake.user('carol'), att);
    const title = String(((await resultEdit(run, token)).body as Any).embeds[0].title);
    expect(title).not.toMatch(/[\uD800-\uDFFF]/u);
    expect(title).toBe(`${'a'.repeat(254)}…`);
  });

  const cases: [string, () => Any, RegExp][] = [
    [
      'a corrupt Ogg/Opus file',
      () =>
        run.fake.attachment({
          name: 'truncated.opus.ogg',
          bytes: fixture('truncated.opus.ogg'),
          contentType: 'audio/ogg',
        }),
      /damaged/,
    ],
    [
      'a video without an audio track',
      () =>
        run.fake.attachment({
          name: 'clip.mp4',
          bytes: fixture('video-no-audio.mp4'),
          contentType: 'video/mp4',
        }),
      /That video has no sound track/,
    ],
    [
      'a file that is not audio',
      () => run.fake.attachment({ name: 'image.png', bytes: fixture('image.png'), contentType: 'image/png' }),
      /not audio I can read/,
    ],
    [
      'a 0-byte file',
      () => run.fake.attachment({ name: 'empty.ogg', bytes: new Uint8Array(0), contentType: 'audio/ogg' }),
      /empty \(0 bytes\)/,
    ],
    [
      'a file declared over the size limit (refused before downloading)',
      () =>
        run.fake.attachment({
          name: 'big.wav',
          bytes: fixture('speech-s16-44k-stereo.wav'),
          declaredSize: 5 * 1024 * 1024,
          contentType: 'audio/wav',
        }),
      /too large to analyse: the limit is 1 MB/,
    ],
    [
      'a file that is bigger than it declared (counted while downloading)',
      () =>
        run.fake.attachment({
          name: 'liar.wav',
          bytes: new Uint8Array(1_200_000).fill(1),
          declaredSize: 1000,
          contentType: 'audio/wav',
        }),
      /too large to analyse: the limit is 1 MB/,
    ],
  ];
  for (const [what, make, expected] of cases) {
    it(`answers ${what} with its specific message, ephemerally, and keeps running`, async () => {
      const { fake } = run;
      const user = fake.user('carol');
      const att = make();
      const { token } = fake.fileCommand(user, att);
      expect((await ephemeralReply(run, token)).content).toMatch(expected);
      // The public "thinking…" reply (when there was one) is removed rather than left hanging.
      const calls = fake.forInteraction(token);
      if ((calls[0]?.body as Any)?.type === 5) expect(calls.some((c) => c.method === 'DELETE')).toBe(true);
      expect(calls.some((c) => ((c.body as Any)?.embeds?.length ?? 0) > 0)).toBe(false);
    });
  }

  it('never downloads the declared-too-large file', () => {
    expect(run.fake.requests.some((r) => r.path.includes('/big.wav'))).toBe(false);
  });
});

describe('long work', () => {
  it('answers in the channel, mentioning the caller, when the 15-minute interaction token has run out', async () => {
    const { fake } = run;
    const late = fake.user('late');
    const att = fake.attachment({
      name: 'late.ogg',
      bytes: fixture('speech-stereo.opus.ogg'),
      contentType: 'audio/ogg',
    });
    const { token } = fake.fileCommand(late, att, { createdAt: Date.now() - 14.5 * 60_000 });
    const post = await fake.waitFor(() =>
      fake
        .channelRequests(fake.textChannelId)
        .find((r) => r.method === 'POST' && String(r.body?.content).includes(late.id)),
    );
    expect((post.body as Any).content).toBe(`<@${late.id}> `);
    expect((post.body as Any).embeds).toHaveLength(1);
    expect(post.files.map((f) => f.name)).toEqual(['timeline.png']);
    expect(fake.forInteraction(token).filter((r) => r.method === 'PATCH')).toEqual([]);
  });

  it('shows progress on a long recording by editing the deferred reply before the result', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'annamalai-long-'));
    const path = join(dir, 'long.ogg');
    const ffmpeg = locateFfmpeg(process.env);
    if (!ffmpeg) throw new Error('ffmpeg is needed');
    execFileSync(ffmpeg.path, [
      '-loglevel',
      'error',
      '-stream_loop',
      '-1',
      '-i',
      'samples/hello.ogg',
      '-t',
      '60',
      '-c:a',
      'libopus',
      '-b:a',
      '24k',
      path,
    ]);
    const inner = world.services.analyzer.classifier;
    // The fixture model is too quick to show progress: slow each batch as a big model on a busy CPU would.
    const slow = slowed(inner, 300);
    const slowRun = await startBot(world, {}, {});
    (slowRun.bot.deps.analyzer as { classifier: EmotionClassifier }).classifier = slow;
    try {
      const { fake } = slowRun;
      const att = fake.attachment({
        name: 'long.ogg',
        bytes: new Uint8Array(readFileSync(path)),
        contentType: 'audio/ogg',
      });
      const { token } = fake.fileCommand(fake.user('patient'), att);
      await fake.waitFor(() =>
        fake
          .forInteraction(token)
          .find((q) => q.method === 'PATCH' && ((q.body as Any)?.embeds?.length ?? 0) > 0),
      );
      const edits = fake.forInteraction(token).filter((q) => q.method === 'PATCH');
      expect((edits[0]?.body as Any)?.content).toMatch(/^🎧 Analysing… \d+% \(8 of 12 segments\)$/);
      expect((edits.at(-1)?.body as Any)?.embeds[0].title).toMatch(/^long\.ogg · 1:00 · 12 speech segments$/);
    } finally {
      await slowRun.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
