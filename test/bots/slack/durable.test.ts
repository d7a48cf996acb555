import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { slackRecovery } from '../../../src/bots/slack/recovery.ts';
import { createLogger } from '../../../src/log.ts';
import { expectAnsweredOnce, journalWithStoredResult } from '../../support/stored-result.ts';
import { MemoryJobJournal, MemoryStorageMonitor } from '../../support/twins.ts';
import {
  blocksText,
  fileMessage,
  type Harness,
  harnessPerTest,
  sharedClassifier,
  slackFile,
  waitForReply,
} from './harness.ts';

const startHarness = harnessPerTest();

const FAST_RETRY = { attempts: 3, delaysMs: [20] };

async function sendClip(harness: Harness, user = 'U0ALICE') {
  const { fake } = harness;
  await fake.deliver(
    'events_api',
    fake.eventPayload(fileMessage(fake, 'D0ALICE', [slackFile(fake, 'speech.m4a', { user })], { user })),
  );
}

describe('final replies: retried, then replaced (fake Slack, real Bolt)', () => {
  it('a final chat.update that fails once is retried and lands in place of "Analyzing…"', async () => {
    const h = await startHarness({ deps: { replyRetry: FAST_RETRY } });
    const harness = h;
    // A failed update answered by Slack itself (ok: false): the Web API client does not retry those.
    harness.fake.failNext('chat.update', { body: { ok: false, error: 'internal_error' } });
    await sendClip(harness);
    const { update, post } = await waitForReply(harness);
    expect(blocksText(update.args)).toMatch(/Emotions heard/);
    expect(harness.fake.callsOf('chat.update').filter((c) => c.args.ts === post.reply?.ts)).toHaveLength(2);
    expect(harness.fake.callsOf('chat.postMessage')).toHaveLength(1);
  });

  it('an "Analyzing…" message deleted meanwhile is replaced by the result posted once in the thread', async () => {
    const h = await startHarness({ deps: { replyRetry: FAST_RETRY } });
    const harness = h;
    harness.fake.failNext('chat.update', { body: { ok: false, error: 'message_not_found' } });
    await sendClip(harness);
    const replaced = await harness.fake.waitFor(
      () => harness.fake.callsOf('chat.postMessage').find((c) => /Emotions heard/.test(blocksText(c.args))),
      20_000,
      'the result posted as a new message',
    );
    await harness.bot.idle();
    const [waiting] = harness.fake.callsOf('chat.postMessage');
    expect(replaced.args.thread_ts).toBe(waiting?.args.thread_ts);
    expect(harness.fake.callsOf('chat.postMessage')).toHaveLength(2);
    expect(harness.fake.callsOf('chat.update')).toHaveLength(1);
  });
});

describe('a result that could not be saved still reaches the user, saying so', () => {
  it('with the database write-locked by another connection past the wait, the result arrives with the "could not be saved" line', async () => {
    const h = await startHarness({ lockWaitMs: 300 });
    // A real SQLite write lock held by a second connection for the whole analysis.
    const locker = new DatabaseSync(h.dbPath);
    locker.exec('BEGIN IMMEDIATE');
    try {
      await sendClip(h);
      const { update } = await waitForReply(h);
      expect(blocksText(update.args)).toMatch(/Emotions heard/);
      expect(blocksText(update.args)).toMatch(/could not be saved/);
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    expect(await h.store.userHistory('slack', 'U0ALICE', 5)).toHaveLength(0);
  });
});

describe('storage lost: new clips refused, the workspace owner told once', () => {
  it('answers a clip with the storage.unavailable text, downloads nothing, and DMs the primary owner once', async () => {
    const health = new MemoryStorageMonitor();
    const h = await startHarness({ deps: { storageHealth: health } });
    const harness = h;
    harness.fake.on('users.list', () => ({
      ok: true,
      members: [
        { id: 'U0BOB', is_primary_owner: false },
        { id: 'U0OWNER', is_primary_owner: true },
      ],
      response_metadata: { next_cursor: '' },
    }));
    health.set({ state: 'lost', detail: 'the database file was replaced', since: new Date() });
    await sendClip(harness);
    const refusal = await harness.fake.waitFor(
      () => harness.fake.callsOf('chat.postEphemeral')[0],
      20_000,
      'the refusal',
    );
    expect(String(refusal.args.text)).toMatch(/I cannot store results right now/);
    const notice = await harness.fake.waitFor(
      () => harness.fake.callsOf('chat.postMessage').find((c) => c.args.channel === 'U0OWNER'),
      20_000,
      "the owner's DM",
    );
    expect(String(notice.args.text)).toMatch(/lost its database: the database file was replaced/);
    health.set({ state: 'lost', detail: 'still replaced', since: new Date() });
    await sendClip(harness, 'U0BOB');
    await harness.fake.waitFor(
      () => harness.fake.callsOf('chat.postEphemeral')[1],
      20_000,
      'the 2nd refusal',
    );
    await harness.bot.idle();
    expect(harness.fake.callsOf('chat.postMessage')).toHaveLength(1);
    expect(harness.fake.fileRequests).toHaveLength(0);
    expect(harness.logs.text).toMatch(/STORAGE LOST/);
  });
});

describe('accepted work and restart recovery (job journal)', () => {
  it('a clip is refused with the storage text when the journal cannot record it (nothing is downloaded)', async () => {
    const jobs = new MemoryJobJournal();
    jobs.open = async () => Promise.reject(new Error('disk I/O error'));
    const h = await startHarness({ deps: { jobs } });
    await sendClip(h);
    const refusal = await h.fake.waitFor(
      () => h?.fake.callsOf('chat.postEphemeral')[0],
      20_000,
      'the refusal',
    );
    expect(String(refusal.args.text)).toMatch(/I cannot store results right now/);
    await h.bot.idle();
    expect(h.fake.callsOf('chat.postMessage')).toHaveLength(0);
    expect(h.fake.fileRequests).toHaveLength(0);
  });

  it('a job is open while its clip is analysed and closed once answered, with the reply and result recorded', async () => {
    const jobs = new MemoryJobJournal();
    const h = await startHarness({ deps: { jobs } });
    await sendClip(h);
    const { post } = await waitForReply(h);
    const [job] = [...jobs.jobs.values()];
    expect(job?.closed).toBe(true);
    expect(JSON.parse(String(job?.reply))).toEqual({
      channel: 'D0ALICE',
      threadTs: post.args.thread_ts,
      ts: post.reply?.ts,
    });
    expect(job?.analysisId).toBe((await h.store.userHistory('slack', 'U0ALICE', 1))[0]?.id);
  });

  it('after a restart, "Analyzing…" of a job whose result was stored is updated into that result, once, with its chart', async () => {
    const h = await startHarness();
    const harness = h;
    const jobs = await journalWithStoredResult(harness.store, {
      platform: 'slack',
      userId: 'U0ALICE',
      channelId: 'D0ALICE',
      sourceName: 'earlier.m4a',
      reply: JSON.stringify({ channel: 'D0ALICE', threadTs: '1.000100', ts: '2.000100' }),
    });
    const model = (await sharedClassifier()).info;
    const recovery = slackRecovery(harness.bot.app.client, model, createLogger('error'), FAST_RETRY);
    await expectAnsweredOnce('slack', { jobs, store: harness.store, log: createLogger('error') }, recovery);
    const updates = harness.fake.callsOf('chat.update');
    expect(updates).toHaveLength(1);
    expect(updates[0]?.args.ts).toBe('2.000100');
    expect(blocksText(updates[0]?.args ?? {})).toMatch(/Emotions heard in “earlier\.m4a”/);
    // The chart follows in the thread, as after a live analysis.
    const upload = harness.fake.callsOf('files.completeUploadExternal');
    expect(upload).toHaveLength(1);
    expect(upload[0]?.args.thread_ts).toBe('1.000100');
  });
});
