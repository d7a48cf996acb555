import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { locateFfmpeg } from '../../../src/audio/index.ts';
import { slowed } from '../../support/twins.ts';
import {
  BOT_TOKEN,
  blocksText,
  fileMessage,
  harnessPerTest,
  sharedClassifier,
  slackFile,
  waitForReply,
} from './harness.ts';

// Real Bolt (Socket Mode) against the fake Slack, real ffmpeg/in-process decoding, onnxruntime with the
// fixture model, real SQLite.
const startHarness = harnessPerTest();

describe('Slack clips (Socket Mode, real Bolt, fake Slack)', () => {
  it('a clip in a DM gets "Analyzing…" in its thread, then the result, a chart, and a stored row', async () => {
    const h = await startHarness();
    const file = slackFile(h.fake, 'speech.m4a', { subtype: 'slack_audio' });
    const event = fileMessage(h.fake, 'D0ALICE', [file]);
    const ack = await h.fake.deliver('events_api', h.fake.eventPayload(event));
    expect(ack.envelope_id).toBeTruthy();

    const { post, update } = await waitForReply(h);
    expect(post.args).toMatchObject({ channel: 'D0ALICE', thread_ts: event.ts });
    expect(String(post.args.text)).toMatch(/^Analyzing “speech\.m4a”…/);
    expect(post.authorization).toBe(`Bearer ${BOT_TOKEN}`);

    const blocks = blocksText(update.args);
    expect(blocks).toMatch(/Emotions heard in “speech\.m4a”/);
    expect(blocks).toMatch(/0:00–0:0\d [a-z]+ \d+%/);
    expect(blocks).toMatch(/[🟢🟠🔴]/u);
    expect(blocks).toMatch(/Model: TEST FIXTURE.* 1\.0\.0/);
    expect(blocks).toMatch(/Test fixture model: these numbers are not real emotion estimates/);
    expect(blocks).toMatch(/not facts about a person/);
    expect((update.args.blocks as unknown[]).length).toBeLessThanOrEqual(50);

    // The download carried the bot token to the (configured) Slack file host.
    expect(h.fake.fileRequests).toHaveLength(1);
    expect(h.fake.fileRequests[0]?.authorization).toBe(`Bearer ${BOT_TOKEN}`);

    // The chart went up with files.uploadV2 into the same thread.
    await h.fake.waitFor(
      () => h?.fake.callsOf('files.completeUploadExternal')[0],
      10_000,
      'the chart upload',
    );
    const complete = h.fake.callsOf('files.completeUploadExternal')[0];
    expect(complete?.args).toMatchObject({ channel_id: 'D0ALICE', thread_ts: event.ts });
    expect(h.fake.uploads[0]?.bytes).toBeGreaterThan(1000);

    const history = await h.store.userHistory('slack', 'U0ALICE', 5);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      channelId: 'D0ALICE',
      sourceName: 'speech.m4a',
      outcome: { status: 'ok' },
    });
  });

  it('a clip in a channel is analysed only when auto-analysis is on there', async () => {
    const h = await startHarness();
    const off = fileMessage(h.fake, 'C0GENERAL', [slackFile(h.fake, 'speech.webm')]);
    await h.fake.deliver('events_api', h.fake.eventPayload(off));
    // Give the listener time to (not) act, then check nothing was posted or downloaded.
    await new Promise((r) => setTimeout(r, 300));
    await h.bot.idle();
    expect(h.fake.callsOf('chat.postMessage')).toHaveLength(0);
    expect(h.fake.fileRequests).toHaveLength(0);

    await h.settings.updateWorkspace('slack', 'T0TEAM', { addAutoAnalysisChannel: 'C0GENERAL' });
    const on = fileMessage(h.fake, 'C0GENERAL', [slackFile(h.fake, 'speech.webm')]);
    await h.fake.deliver('events_api', h.fake.eventPayload(on));
    const { post, update } = await waitForReply(h);
    expect(post.args).toMatchObject({ channel: 'C0GENERAL', thread_ts: on.ts });
    expect(blocksText(update.args)).toMatch(/Emotions heard in “speech\.webm”/);
  });

  it.each([
    ['video-with-speech.mp4', 'video/mp4'],
    ['speech.webm', 'video/webm'],
  ])(
    'a %s clip labelled %s (subtype slack_audio) is analysed from its audio track',
    async (name, mimetype) => {
      const h = await startHarness();
      const file = slackFile(h.fake, name, { mimetype, subtype: 'slack_audio' });
      await h.fake.deliver('events_api', h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [file])));
      const { update } = await waitForReply(h);
      expect(blocksText(update.args)).toContain(`Emotions heard in “${name}”`);
    },
  );

  it.each([
    ['truncated.opus.ogg', 'audio/ogg'],
    ['garbage-after-header.m4a', 'audio/mp4'],
  ])(
    'a corrupt file (%s) gets a specific, kind error in place of the result, stored as failed',
    async (name, mimetype) => {
      const h = await startHarness();
      const file = slackFile(h.fake, name, { mimetype });
      await h.fake.deliver('events_api', h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [file])));
      const { update } = await waitForReply(h);
      expect(update.args.text).toBe('I could not decode that audio: the file looks damaged.');
      const [row] = await h.store.userHistory('slack', 'U0ALICE', 1);
      expect(row?.outcome).toMatchObject({ status: 'failed', error: { code: 'audio.corrupt' } });
    },
  );

  it('a video without audio says so', async () => {
    const h = await startHarness();
    const file = slackFile(h.fake, 'video-no-audio.mp4', { mimetype: 'video/mp4' });
    await h.fake.deliver('events_api', h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [file])));
    const { update } = await waitForReply(h);
    expect(String(update.args.text)).toBe('That file has no audio track.');
  });

  it('an image or a text message is ignored without a reply', async () => {
    const h = await startHarness();
    const image = slackFile(h.fake, 'image.png', { mimetype: 'image/png', filetype: 'png' });
    await h.fake.deliver('events_api', h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [image])));
    await h.fake.deliver(
      'events_api',
      h.fake.eventPayload({
        type: 'message',
        user: 'U0ALICE',
        channel: 'D0ALICE',
        channel_type: 'im',
        text: 'hi',
        ts: h.fake.nextTs(),
      }),
    );
    await new Promise((r) => setTimeout(r, 300));
    await h.bot.idle();
    expect(h.fake.callsOf('chat.postMessage')).toHaveLength(0);
  });

  it('a stub file from the event is completed with files.info before downloading', async () => {
    const h = await startHarness();
    const full = slackFile(h.fake, 'speech.m4a');
    h.fake.fileInfo.set(String(full.id), full);
    const stub = { id: full.id, mimetype: 'audio/mp4', file_access: 'check_file_info', user: 'U0ALICE' };
    await h.fake.deliver('events_api', h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [stub])));
    const { update } = await waitForReply(h);
    expect(h.fake.callsOf('files.info')[0]?.args.file).toBe(full.id);
    expect(blocksText(update.args)).toMatch(/Emotions heard in “speech\.m4a”/);
  });

  it('a file declared over the size limit is refused before downloading, with an ephemeral note', async () => {
    const h = await startHarness({ maxBytes: 20_000 });
    const file = slackFile(h.fake, 'speech.m4a'); // 32,539 bytes
    await h.fake.deliver('events_api', h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [file])));
    const note = await h.fake.waitFor(() => h?.fake.callsOf('chat.postEphemeral')[0]);
    expect(note.args).toMatchObject({ user: 'U0ALICE', text: expect.stringMatching(/over 0\.019 MB/) });
    expect(h.fake.fileRequests).toHaveLength(0);
    expect(h.fake.callsOf('chat.postMessage')).toHaveLength(0);
  });

  it('a file larger than it declared is cut off while downloading (bytes are counted)', async () => {
    const h = await startHarness({ maxBytes: 20_000 });
    const file = slackFile(h.fake, 'speech.m4a', { size: 1_000 });
    await h.fake.deliver('events_api', h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [file])));
    const { update } = await waitForReply(h);
    expect(h.fake.fileRequests).toHaveLength(1);
    expect(String(update.args.text)).toMatch(/over 0\.019 MB: larger recordings are not analysed/);
  });

  it('a long clip shows rising "Analyzing… N %" edits, and the result stays the last edit even when a progress edit is rate-limited', async () => {
    const ffmpeg = locateFfmpeg(process.env);
    if (!ffmpeg) throw new Error('ffmpeg is needed');
    // 60 s of speech: 12 segments, classified in two batches (8, then 4).
    // biome-ignore format: ffmpeg's arguments read best on one line
    const long = execFileSync(ffmpeg.path, ['-loglevel', 'error', '-stream_loop', '-1', '-i', 'samples/hello.ogg', '-t', '60', '-c:a', 'libopus', '-b:a', '24k', '-f', 'ogg', 'pipe:1']);
    const inner = await sharedClassifier();
    // The fixture model is too quick for progress (at most one edit per 5 s, none in the first 5 s): slow each
    // batch as a big model on a busy CPU would.
    const h = await startHarness({ classifier: slowed(inner, 5_200) });
    h.fake.hostedFiles.set('long.ogg', new Uint8Array(long));
    // Slack rate-limits chat.update: each progress edit is answered 429 (Retry-After 1 s) once, so the last one
    // is still waiting for its retry when the result is ready.
    const limited = new Set<string>();
    h.fake.on('chat.update', (args) => {
      const text = String(args.text);
      if (/ \d+ %$/.test(text) && !limited.has(text)) {
        limited.add(text);
        return { status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } };
      }
      return { ok: true, channel: args.channel, ts: args.ts, text: args.text };
    });
    const file = slackFile(h.fake, 'long.ogg');
    await h.fake.deliver('events_api', h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [file])));

    const { post, ts } = await waitForReply(h);
    await new Promise((r) => setTimeout(r, 500)); // time for a late edit to land
    // What the user sees, in the order Slack applied it: the edits Slack accepted.
    const edits = h.fake.callsOf('chat.update').filter((c) => c.args.ts === ts && c.reply?.ok === true);
    expect(limited.size).toBeGreaterThanOrEqual(1);
    expect(edits.every((e) => e.at >= post.at)).toBe(true);
    // The result is the last edit: no progress edit arrived after it.
    const last = edits.at(-1);
    expect(String(last?.args.text)).not.toMatch(/^Analyzing/);
    expect(blocksText(last?.args ?? {})).toMatch(/Emotions heard in “long\.ogg”/);
    const progress = edits.slice(0, -1).map((e) => String(e.args.text));
    expect(progress.length).toBeGreaterThanOrEqual(1);
    for (const text of progress) expect(text).toMatch(/^Analyzing “long\.ogg”… \d{1,3} %$/);
    const percents = progress.map((text) => Number(/(\d+) %$/.exec(text)?.[1]));
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.every((p) => p > 0 && p <= 100)).toBe(true);
  });
});
