import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ForeignHost } from './fake-slack.ts';
import {
  APP_TOKEN,
  BOT_TOKEN,
  blocksText,
  closeClassifier,
  fileMessage,
  type Harness,
  SIGNING_SECRET,
  slackFile,
  startHarness,
  waitForReply,
} from './harness.ts';

let h: Harness | undefined;
let foreign: ForeignHost | undefined;
afterEach(async () => {
  await h?.close();
  await foreign?.close();
  h = undefined;
  foreign = undefined;
});
afterAll(closeClassifier);

describe('Socket Mode reconnects', () => {
  it('a socket dropped mid-analysis loses no reply, and the redelivered event is not handled twice', async () => {
    h = await startHarness();
    h.fake.fileDelayMs = 600;
    const event = h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [slackFile(h.fake, 'speech.m4a')]));
    await h.fake.deliver('events_api', event);
    await h.fake.waitFor(() => h?.fake.callsOf('chat.postMessage')[0], 10_000, 'the Analyzing… post');
    await h.fake.waitFor(() => h?.fake.fileRequests[0], 10_000, 'the download'); // in flight now (600 ms)

    h.fake.dropSocket();
    // An event sent while the app is disconnected waits for the next connection (Slack holds it too).
    const whileDown = h.fake.eventPayload(
      fileMessage(h.fake, 'D0BOB', [slackFile(h.fake, 'speech.webm', { user: 'U0BOB' })], { user: 'U0BOB' }),
    );
    const deliveredLater = h.fake.deliver('events_api', whileDown);
    await h.fake.waitFor(() => (h?.fake.connections ?? 0) >= 2, 10_000, 'the reconnect');
    await deliveredLater;
    // Slack's retry of the first event (same event_id, new envelope) after the reconnect.
    const first = h.fake.envelopes[0];
    if (!first) throw new Error('no envelope');
    const retried = await h.fake.redeliver(first);
    expect(retried.envelope_id).not.toBe(first.envelope_id);

    const a = await waitForReply(h, 1);
    const b = await waitForReply(h, 2);
    // And a late retry, after the reply is out: still handled once.
    await h.fake.redeliver(first, 'http_timeout');
    await new Promise((r) => setTimeout(r, 300));
    await h.bot.idle();
    expect(h.fake.callsOf('chat.postMessage')).toHaveLength(2);
    expect(h.fake.fileRequests).toHaveLength(2);
    expect(blocksText(a.update.args)).toMatch(/speech\.m4a/);
    expect(blocksText(b.update.args)).toMatch(/speech\.webm/);
    expect(await h.store.userHistory('slack', 'U0ALICE', 5)).toHaveLength(1);
    expect(await h.store.userHistory('slack', 'U0BOB', 5)).toHaveLength(1);
  });
});

describe('token safety', () => {
  it('the bot token never leaves for a non-Slack host: url_private elsewhere is refused', async () => {
    foreign = await ForeignHost.start();
    h = await startHarness();
    const file = slackFile(h.fake, 'speech.m4a', {
      url_private: `${foreign.url}/evil.m4a`,
      url_private_download: `${foreign.url}/evil.m4a`,
    });
    await h.fake.deliver('events_api', h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [file])));
    const { update } = await waitForReply(h);
    expect(String(update.args.text)).toMatch(/couldn’t download the file/);
    expect(foreign.requests).toHaveLength(0);
  });

  it("a redirect from Slack's file host to another host is refused before any request reaches it", async () => {
    foreign = await ForeignHost.start();
    h = await startHarness();
    const redirect = `${h.fake.url}/redirect?to=${encodeURIComponent(`${foreign.url}/evil.m4a`)}`;
    const file = slackFile(h.fake, 'speech.m4a', { url_private: redirect, url_private_download: redirect });
    await h.fake.deliver('events_api', h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [file])));
    const { update } = await waitForReply(h);
    expect(String(update.args.text)).toMatch(/couldn’t download the file/);
    expect(h.fake.fileRequests[0]?.authorization).toBe(`Bearer ${BOT_TOKEN}`);
    expect(foreign.requests).toHaveLength(0);
  });

  it('no token appears in the logs, even at debug level', async () => {
    h = await startHarness();
    await h.fake.deliver(
      'events_api',
      h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [slackFile(h.fake, 'speech.m4a')])),
    );
    await waitForReply(h);
    expect(h.logs.text.length).toBeGreaterThan(100);
    expect(h.logs.text).not.toContain(BOT_TOKEN);
    expect(h.logs.text).not.toContain(APP_TOKEN);
    expect(h.logs.text).not.toMatch(/secretbottoken|secretapptoken/);
  });
});

describe('graceful shutdown', () => {
  it('stop() finishes the running analysis and tells the waiting user their clip was abandoned', async () => {
    h = await startHarness({ env: { WORK_CONCURRENCY: '1' } });
    h.fake.fileDelayMs = 400;
    await h.fake.deliver(
      'events_api',
      h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [slackFile(h.fake, 'speech.m4a')])),
    );
    await h.fake.deliver(
      'events_api',
      h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [slackFile(h.fake, 'speech.webm')])),
    );
    await h.fake.waitFor(
      () => h?.fake.callsOf('chat.postMessage').length === 2,
      10_000,
      'two Analyzing… posts',
    );
    const report = await h.bot.stop(10_000);
    // The second job is either still waiting in the queue (abandoned) or arrives after it closed: the
    // user-visible outcome below is the same.
    expect(report.aborted).toBe(0);
    const [first, second] = h.fake.callsOf('chat.postMessage').map((c) => String(c.reply?.ts));
    const final = (ts: string | undefined) =>
      h?.fake
        .callsOf('chat.update')
        .filter((c) => c.args.ts === ts)
        .at(-1);
    expect(blocksText(final(first)?.args ?? {})).toMatch(/Emotions heard/);
    expect(String(final(second)?.args.text)).toMatch(/restarted before I could analyse this clip/);
  });
});

function sign(body: string, timestamp: number, secret = SIGNING_SECRET): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

describe('HTTP mode', () => {
  it('verifies request signatures: a bad signature, a stale timestamp and one more than 5 minutes ahead are rejected (401, no handler runs), a good one handled', async () => {
    h = await startHarness({
      env: { SLACK_MODE: 'http', SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_PORT: '0' },
    });
    const port = (h.bot.server?.address() as AddressInfo | undefined)?.port;
    expect(port).toBeGreaterThan(0);
    const url = `http://127.0.0.1:${port}/slack/events`;
    const post = (body: string, timestamp: number, signature: string) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-slack-request-timestamp': String(timestamp),
          'x-slack-signature': signature,
        },
        body,
      });
    const body = JSON.stringify(
      h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [slackFile(h.fake, 'speech.m4a')])),
    );
    const now = Math.floor(Date.now() / 1000);

    const bad = await post(body, now, sign(body, now, 'not-the-secret'));
    expect(bad.status).toBe(401);
    const stale = await post(body, now - 6 * 60, sign(body, now - 6 * 60));
    expect(stale.status).toBe(401);
    // Stamped in the future with a valid signature: a replay waiting to happen, refused like a stale one.
    for (const ahead of [6 * 60, 10 * 60, 365 * 24 * 3600]) {
      const future = await post(body, now + ahead, sign(body, now + ahead));
      expect(future.status).toBe(401);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(h.fake.callsOf('chat.postMessage')).toHaveLength(0);
    expect(h.fake.fileRequests).toHaveLength(0);

    const good = await post(body, now, sign(body, now));
    expect(good.status).toBe(200);
    const { update } = await waitForReply(h);
    expect(blocksText(update.args)).toMatch(/Emotions heard in “speech\.m4a”/);
  });
});
