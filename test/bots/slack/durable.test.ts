import { DatabaseSync } from 'node:sqlite';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MemoryStorageMonitor } from '../../support/twins.ts';
import {
  blocksText,
  closeClassifier,
  fileMessage,
  type Harness,
  slackFile,
  startHarness,
  waitForReply,
} from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});
afterAll(closeClassifier);

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
    h = await startHarness({ deps: { replyRetry: FAST_RETRY } });
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
    h = await startHarness({ deps: { replyRetry: FAST_RETRY } });
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
    h = await startHarness({ lockWaitMs: 300 });
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
    h = await startHarness({ deps: { storageHealth: health } });
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
