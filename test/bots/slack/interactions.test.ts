import { describe, expect, it } from 'vitest';
import { type FakeSlack, TEAM } from './fake-slack.ts';
import { blocksText, fileMessage, harnessPerTest, slackFile, slashCommand, waitForReply } from './harness.ts';

const startHarness = harnessPerTest();

function command(fake: FakeSlack, text: string, user = 'U0ALICE', channel = 'C0RANDOM') {
  return slashCommand(fake, text, { user, channel });
}

function shortcut(fake: FakeSlack, message: Record<string, unknown>, user = 'U0BOB', channel = 'C0RANDOM') {
  const id = fake.nextId('sc');
  return {
    id,
    payload: {
      type: 'message_action',
      callback_id: 'analyze_emotions',
      trigger_id: fake.nextId('trig'),
      action_ts: fake.nextTs(),
      team: { id: TEAM, domain: 'fake' },
      user: { id: user, name: user.toLowerCase(), team_id: TEAM },
      channel: { id: channel, name: 'random' },
      message,
      message_ts: message.ts,
      response_url: fake.responseUrl(id),
      is_enterprise_install: false,
    },
  };
}

function buttonClick(fake: FakeSlack, actionId: string, user: string, withResponseUrl = true) {
  const id = fake.nextId('act');
  return {
    id,
    payload: {
      type: 'block_actions',
      user: { id: user, team_id: TEAM },
      team: { id: TEAM, domain: 'fake' },
      api_app_id: 'A0APP',
      trigger_id: fake.nextId('trig'),
      container: withResponseUrl ? { type: 'message', is_ephemeral: true } : { type: 'view', view_id: 'V1' },
      ...(withResponseUrl
        ? { response_url: fake.responseUrl(id), channel: { id: 'C0RANDOM' } }
        : { view: { id: 'V1', type: 'home' } }),
      actions: [
        {
          action_id: actionId,
          block_id: 'b1',
          type: 'button',
          action_ts: fake.nextTs(),
          text: { type: 'plain_text', text: 'x' },
        },
      ],
    },
  };
}

/** The first response_url post of an interaction. */
const responseTo = (fake: FakeSlack, id: string) =>
  fake.waitFor(() => fake.responses.find((r) => r.id === id), 10_000, `a response to ${id}`);

describe('Slack shortcut and /emotion (real Bolt, fake Slack)', () => {
  it('the "Analyze emotions" shortcut replies in the clip\'s thread and stores the result under the speaker', async () => {
    const h = await startHarness();
    const message = fileMessage(h.fake, 'C0RANDOM', [slackFile(h.fake, 'speech-stereo.opus.ogg')]);
    const { payload } = shortcut(h.fake, message);
    await h.fake.deliver('interactive', payload);
    const { post, update } = await waitForReply(h);
    expect(post.args).toMatchObject({ channel: 'C0RANDOM', thread_ts: message.ts });
    expect(blocksText(update.args)).toMatch(/Emotions heard in “speech-stereo\.opus\.ogg”/);
    expect(await h.store.userHistory('slack', 'U0ALICE', 5)).toHaveLength(1);
    expect(await h.store.userHistory('slack', 'U0BOB', 5)).toHaveLength(0);
  });

  it('the shortcut on a message without audio answers only the caller', async () => {
    const h = await startHarness();
    const message = { type: 'message', user: 'U0ALICE', ts: h.fake.nextTs(), text: 'just text' };
    const { id, payload } = shortcut(h.fake, message);
    await h.fake.deliver('interactive', payload);
    const response = await responseTo(h.fake, id);
    expect(response?.body).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/no audio/),
    });
    expect(h.fake.callsOf('chat.postMessage')).toHaveLength(0);
  });

  it('/emotion analyses the most recent audio in the channel', async () => {
    const h = await startHarness();
    const older = fileMessage(h.fake, 'C0RANDOM', [slackFile(h.fake, 'speech.webm')]);
    const newer = fileMessage(h.fake, 'C0RANDOM', [slackFile(h.fake, 'speech.m4a')]);
    const text = { type: 'message', user: 'U0BOB', ts: h.fake.nextTs(), text: 'nice' };
    h.fake.history.set('C0RANDOM', [text, newer, older]);
    const { payload } = command(h.fake, '', 'U0BOB');
    await h.fake.deliver('slash_commands', payload, true);
    const { post, update } = await waitForReply(h);
    expect(post.args).toMatchObject({ channel: 'C0RANDOM', thread_ts: newer.ts });
    expect(blocksText(update.args)).toMatch(/speech\.m4a/);
  });

  it('/emotion says so when there is no audio in the channel', async () => {
    const h = await startHarness();
    h.fake.history.set('C0RANDOM', [{ type: 'message', user: 'U0BOB', ts: h.fake.nextTs(), text: 'hello' }]);
    const { id, payload } = command(h.fake, '');
    await h.fake.deliver('slash_commands', payload, true);
    const response = await responseTo(h.fake, id);
    expect(response?.body).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/found no audio/),
    });
    expect(h.fake.callsOf('chat.postMessage')).toHaveLength(0);
  });

  it('/emotion in a channel the app cannot read asks to be invited', async () => {
    const h = await startHarness();
    h.fake.on('conversations.history', () => ({ ok: false, error: 'not_in_channel' }));
    const { id, payload } = command(h.fake, '');
    await h.fake.deliver('slash_commands', payload, true);
    const response = await responseTo(h.fake, id);
    expect(response.body).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/Invite me/),
    });
  });

  it('/emotion help and an unknown subcommand answer within the ack, ephemerally', async () => {
    const h = await startHarness();
    const help = await h.fake.deliver('slash_commands', command(h.fake, 'help').payload, true);
    expect(help.payload).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/Analyze emotions/),
    });
    const unknown = await h.fake.deliver('slash_commands', command(h.fake, 'dance').payload, true);
    expect(String(unknown.payload?.text)).toMatch(/I don't know `\/emotion dance`/);
  });

  it('/emotion settings is refused to a non-admin and applied for an admin', async () => {
    const h = await startHarness();
    h.fake.users.set('U0ADMIN', { id: 'U0ADMIN', is_admin: true, is_owner: false });
    const denied = command(h.fake, 'settings auto on', 'U0BOB');
    await h.fake.deliver('slash_commands', denied.payload, true);
    const no = await responseTo(h.fake, denied.id);
    expect(no?.body).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/Only workspace admins and owners/),
    });
    expect(await h.settings.isAutoAnalysisChannel('slack', TEAM, 'C0RANDOM')).toBe(false);

    const allowed = command(h.fake, 'settings auto on <#C0CLIPS|clips>', 'U0ADMIN');
    await h.fake.deliver('slash_commands', allowed.payload, true);
    const yes = await responseTo(h.fake, allowed.id);
    expect(String(yes?.body.text)).toMatch(/Auto-analysis is now \*on\* in <#C0CLIPS>/);
    expect(await h.settings.isAutoAnalysisChannel('slack', TEAM, 'C0CLIPS')).toBe(true);

    const retention = command(h.fake, 'settings retention 30', 'U0ADMIN');
    await h.fake.deliver('slash_commands', retention.payload, true);
    await responseTo(h.fake, retention.id);
    expect((await h.settings.workspace('slack', TEAM)).retentionDays).toBe(30);
  });

  it('opt-out is honoured: no auto-analysis, the shortcut explains, opt-in restores', async () => {
    const h = await startHarness();
    const out = await h.fake.deliver('slash_commands', command(h.fake, 'optout').payload, true);
    expect(String(out.payload?.text)).toMatch(/will not analyse recordings of your voice/);
    expect(await h.settings.isOptedOut('slack', 'U0ALICE')).toBe(true);

    await h.fake.deliver(
      'events_api',
      h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [slackFile(h.fake, 'speech.m4a')])),
    );
    const clip = fileMessage(h.fake, 'C0RANDOM', [slackFile(h.fake, 'speech.m4a')]);
    const sc = shortcut(h.fake, clip, 'U0BOB');
    await h.fake.deliver('interactive', sc.payload);
    const response = await responseTo(h.fake, sc.id);
    expect(String(response?.body.text)).toMatch(/<@U0ALICE> has opted out/);
    await h.bot.idle();
    expect(h.fake.callsOf('chat.postMessage')).toHaveLength(0);
    expect(h.fake.fileRequests).toHaveLength(0);
    expect(await h.store.userHistory('slack', 'U0ALICE', 5)).toHaveLength(0);

    await h.fake.deliver('slash_commands', command(h.fake, 'optin').payload, true);
    await h.fake.deliver(
      'events_api',
      h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [slackFile(h.fake, 'speech.m4a')])),
    );
    await waitForReply(h);
    expect(await h.store.userHistory('slack', 'U0ALICE', 5)).toHaveLength(1);
  });

  it("/emotion forget asks first, then deletes only the caller's results", async () => {
    const h = await startHarness();
    await h.fake.deliver(
      'events_api',
      h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [slackFile(h.fake, 'speech.m4a')])),
    );
    await waitForReply(h);
    const bobs = fileMessage(h.fake, 'D0BOB', [slackFile(h.fake, 'speech.webm', { user: 'U0BOB' })], {
      user: 'U0BOB',
    });
    await h.fake.deliver('events_api', h.fake.eventPayload(bobs));
    await waitForReply(h, 2);

    const history = await h.fake.deliver('slash_commands', command(h.fake, 'history').payload, true);
    expect(JSON.stringify(history.payload?.blocks)).toMatch(/speech\.m4a/);

    const ask = await h.fake.deliver('slash_commands', command(h.fake, 'forget').payload, true);
    expect(JSON.stringify(ask.payload?.blocks)).toMatch(/forget_confirm/);
    expect(await h.store.userHistory('slack', 'U0ALICE', 5)).toHaveLength(1);

    const click = buttonClick(h.fake, 'forget_confirm', 'U0ALICE');
    await h.fake.deliver('interactive', click.payload);
    const done = await responseTo(h.fake, click.id);
    expect(done?.body).toMatchObject({
      replace_original: true,
      text: 'Deleted 1 stored result of your voice.',
    });
    expect(await h.store.userHistory('slack', 'U0ALICE', 5)).toHaveLength(0);
    expect(await h.store.userHistory('slack', 'U0BOB', 5)).toHaveLength(1);
  });

  it('a 429 from the Web API is retried after its Retry-After, and the reply still lands', async () => {
    const h = await startHarness();
    h.fake.failNext('chat.update', {
      status: 429,
      headers: { 'retry-after': '1' },
      body: { ok: false, error: 'ratelimited' },
    });
    await h.fake.deliver(
      'events_api',
      h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [slackFile(h.fake, 'speech.m4a')])),
    );
    const { ts, update } = await waitForReply(h);
    const updates = h.fake.callsOf('chat.update').filter((c) => c.args.ts === ts);
    expect(updates).toHaveLength(2);
    const [limited, retried] = updates;
    expect(limited?.reply).toMatchObject({ error: 'ratelimited' });
    expect((retried?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(blocksText(update.args)).toMatch(/Emotions heard/);
  });

  it('the per-user rate limit answers kindly instead of analysing', async () => {
    const h = await startHarness({ env: { RATE_LIMIT_USER_PER_MINUTE: '1' } });
    await h.fake.deliver(
      'events_api',
      h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [slackFile(h.fake, 'speech.m4a')])),
    );
    await waitForReply(h);
    await h.fake.deliver(
      'events_api',
      h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [slackFile(h.fake, 'speech.webm')])),
    );
    const ephemeral = await h.fake.waitFor(() => h?.fake.callsOf('chat.postEphemeral')[0]);
    expect(ephemeral.args).toMatchObject({
      channel: 'D0ALICE',
      user: 'U0ALICE',
      text: expect.stringMatching(/a lot of analyses.*try again in \d+ seconds/),
    });
    expect(h.fake.callsOf('chat.postMessage')).toHaveLength(1);
  });
});

describe('Slack limits on work', () => {
  it('the per-workspace rate limit counts everyone in the workspace', async () => {
    const h = await startHarness({ env: { RATE_LIMIT_WORKSPACE_PER_MINUTE: '1' } });
    await h.fake.deliver(
      'events_api',
      h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [slackFile(h.fake, 'speech.m4a')])),
    );
    await waitForReply(h);
    const bobs = fileMessage(h.fake, 'D0BOB', [slackFile(h.fake, 'speech.webm', { user: 'U0BOB' })], {
      user: 'U0BOB',
    });
    await h.fake.deliver('events_api', h.fake.eventPayload(bobs));
    const note = await h.fake.waitFor(() => h?.fake.callsOf('chat.postEphemeral')[0]);
    expect(note.args).toMatchObject({
      user: 'U0BOB',
      text: expect.stringMatching(/This workspace has asked for a lot/),
    });
    expect(h.fake.callsOf('chat.postMessage')).toHaveLength(1);
  });

  it('a full work queue answers "busy" instead of piling up', async () => {
    const h = await startHarness({ env: { WORK_CONCURRENCY: '1', WORK_QUEUE_MAX: '0' } });
    h.fake.fileDelayMs = 500;
    await h.fake.deliver(
      'events_api',
      h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [slackFile(h.fake, 'speech.m4a')])),
    );
    await h.fake.waitFor(() => h?.fake.fileRequests[0], 10_000, 'the first download');
    await h.fake.deliver(
      'events_api',
      h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [slackFile(h.fake, 'speech.webm')])),
    );
    const note = await h.fake.waitFor(() => h?.fake.callsOf('chat.postEphemeral')[0]);
    expect(note.args.text).toBe('I am busy with other recordings right now; please try again in a minute.');
    await waitForReply(h);
    expect(h.fake.callsOf('chat.postMessage')).toHaveLength(1);
  });
});

describe('Slack App Home', () => {
  it('shows recent analyses and privacy buttons; opt-out and forget from the Home tab work', async () => {
    const h = await startHarness();
    await h.fake.deliver(
      'events_api',
      h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [slackFile(h.fake, 'speech.m4a')])),
    );
    await waitForReply(h);
    await h.fake.deliver(
      'events_api',
      h.fake.eventPayload({ type: 'app_home_opened', user: 'U0ALICE', channel: 'D0ALICE', tab: 'home' }),
    );
    const first = await h.fake.waitFor(() => h?.fake.callsOf('views.publish')[0]);
    expect(first.args.user_id).toBe('U0ALICE');
    const view = JSON.stringify(first.args.view);
    expect(view).toMatch(/speech\.m4a/);
    expect(view).toMatch(/home_optout/);
    expect(view).toMatch(/home_forget/);

    await h.fake.deliver('interactive', buttonClick(h.fake, 'home_optout', 'U0ALICE', false).payload);
    const second = await h.fake.waitFor(() => h?.fake.callsOf('views.publish')[1]);
    expect(JSON.stringify(second.args.view)).toMatch(/home_optin/);
    expect(await h.settings.isOptedOut('slack', 'U0ALICE')).toBe(true);

    await h.fake.deliver('interactive', buttonClick(h.fake, 'home_forget', 'U0ALICE', false).payload);
    const third = await h.fake.waitFor(() => h?.fake.callsOf('views.publish')[2]);
    expect(JSON.stringify(third.args.view)).toMatch(/Deleted 1 stored result/);
    expect(await h.store.userHistory('slack', 'U0ALICE', 5)).toHaveLength(0);
  });
});
