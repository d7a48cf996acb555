import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BOT_TOKEN, fileMessage, slackFile } from './harness.ts';
import { useSlackProcesses } from './process.ts';

const processes = useSlackProcesses('annamalai-slack-restart-');

describe('kill -9 mid-analysis, restart on the same database (real processes)', () => {
  it('"Analyzing…" is updated exactly once into the restart message, and Slack\'s redelivery of the event after the restart is dropped', async () => {
    const { fake: f, dir } = await processes.setUp();
    const db = join(dir, 'bot.db');
    const first = processes.start(f, db);
    await f.waitFor(() => /Slack app started/.test(first.out.text), 20_000, 'the app to connect');

    f.fileDelayMs = 60_000; // the download hangs: the job is in flight
    await f.deliver('events_api', f.eventPayload(fileMessage(f, 'D0ALICE', [slackFile(f, 'speech.m4a')])));
    const post = await f.waitFor(
      () => f.callsOf('chat.postMessage').find((c) => c.reply?.ts),
      20_000,
      'the Analyzing… post',
    );
    await f.waitFor(() => f.fileRequests[0], 20_000, 'the download');
    first.child.kill('SIGKILL');
    await first.exited;
    f.fileDelayMs = 0;

    const second = processes.start(f, db);
    await f.waitFor(
      () => /answered work left unfinished by the last run/.test(second.out.text),
      20_000,
      'the restart recovery',
    );
    const updates = () => f.callsOf('chat.update').filter((c) => c.args.ts === post.reply?.ts);
    expect(updates()).toHaveLength(1);
    expect(String(updates()[0]?.args.text)).toMatch(
      /I restarted before I could finish; please send it again/,
    );
    expect(second.out.text).toMatch(/"answered":1/);

    // Slack retries the event the killed process had acked late (same event_id, new envelope).
    const envelope = f.envelopes[0];
    if (!envelope) throw new Error('no envelope');
    await f.redeliver(envelope, 'timeout');
    await f.waitFor(() => /dropping a redelivered event/.test(second.out.text), 20_000, 'the drop');
    expect(f.callsOf('chat.postMessage')).toHaveLength(1);
    expect(f.fileRequests).toHaveLength(1);
    expect(updates()).toHaveLength(1);
    expect(second.out.text + first.out.text).not.toContain(BOT_TOKEN);
  });
});
