import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discordRecovery } from '../../../src/bots/discord/recovery.ts';
import { answerUnfinishedJobs } from '../../../src/bots/shared/restart-recovery.ts';
import type { AnalysisStore } from '../../../src/core/ports.ts';
import { expectAnsweredOnce, journalWithStoredResult } from '../../support/stored-result.ts';
import { MemoryJobJournal, MemoryStorageMonitor } from '../../support/twins.ts';
import {
  type Any,
  fixture,
  openWorld,
  type Running,
  sendDmVoiceNote,
  startBot,
  type World,
} from './harness.ts';

let world: World;
beforeAll(async () => {
  world = await openWorld();
});
afterAll(async () => world?.close());

const FAST_RETRY = { attempts: 3, delaysMs: [20] };
/** discord.js's own REST retries off, so every injected failure reaches the bot's policy. */
const NO_REST_RETRY = { clientOptions: { rest: { retries: 0 } }, replyRetry: FAST_RETRY };

/** Every request to a channel's messages, failed ones included (channelRequests keeps the successful). */
const tried = (r: Running, channel: string) =>
  r.fake.requests.filter((q) => q.path.startsWith(`/api/v10/channels/${channel}/messages`));

const withEmbed = (body: unknown) => ((body as Any)?.embeds?.length ?? 0) > 0;

describe('final replies: retried, then replaced (fake Discord, real discord.js)', () => {
  let run: Running;
  const jobs = new MemoryJobJournal();
  beforeAll(async () => {
    run = await startBot(world, {}, { ...NO_REST_RETRY, jobs });
  });
  afterAll(async () => run?.stop());

  it('a final edit that fails once with a 5xx is retried and lands; the job is closed', async () => {
    const { fake } = run;
    fake.failNext('PATCH', /\/channels\/\d+\/messages\/\d+$/, 502, 1);
    const { dm } = sendDmVoiceNote(run.fake, 'retry-once');
    const edit = await fake.waitFor(
      () =>
        fake.channelRequests(dm).find((r) => r.method === 'PATCH' && r.status === 200 && withEmbed(r.body)),
      20_000,
      'the retried result edit',
    );
    expect(edit).toBeDefined();
    expect(tried(run, dm).filter((r) => r.method === 'PATCH' && r.status === 502)).toHaveLength(1);
    await run.bot.idle();
    expect(fake.channelRequests(dm).filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(await jobs.unfinished('discord')).toHaveLength(0);
  });

  it('a final edit that keeps failing is replaced by a new reply to the voice message, posted once', async () => {
    const { fake } = run;
    fake.failNext('PATCH', /\/channels\/\d+\/messages\/\d+$/, 503, 100);
    const { dm, messageId } = sendDmVoiceNote(run.fake, 'retry-fail');
    const posted = await fake.waitFor(
      () => fake.channelRequests(dm).find((r) => r.method === 'POST' && withEmbed(r.body)),
      20_000,
      'the replacement reply',
    );
    await run.bot.idle();
    fake.clearFaults();
    expect((posted.body as Any).message_reference?.message_id).toBe(messageId);
    expect(tried(run, dm).filter((r) => r.method === 'PATCH' && withEmbed(r.body))).toHaveLength(3);
    expect(fake.channelRequests(dm).filter((r) => r.method === 'POST')).toHaveLength(2); // Listening…, result
    expect(await jobs.unfinished('discord')).toHaveLength(0);
  });

  it('a waiting reply deleted meanwhile (Unknown Message) is replaced at once, without retries', async () => {
    const { fake } = run;
    fake.clearFaults();
    fake.failNext('PATCH', /\/channels\/\d+\/messages\/\d+$/, 404, 1, 10008);
    const { dm } = sendDmVoiceNote(run.fake, 'deleted');
    await fake.waitFor(
      () => fake.channelRequests(dm).find((r) => r.method === 'POST' && withEmbed(r.body)),
      20_000,
      'the replacement reply',
    );
    await run.bot.idle();
    expect(tried(run, dm).filter((r) => r.method === 'PATCH')).toHaveLength(1);
  });
});

describe('an interaction whose token stopped working before the result', () => {
  let run: Running;
  beforeAll(async () => {
    run = await startBot(world, {}, NO_REST_RETRY);
  });
  afterAll(async () => run?.stop());

  it('an edit refused with "Invalid Webhook Token" is not retried: the result goes to the channel, mentioning the caller', async () => {
    const { fake } = run;
    fake.failNext('PATCH', /\/webhooks\/\d+\/[^/]+\/messages\//, 401, 1, 50027);
    fake.failNext('POST', /\/webhooks\/\d+\/[^/]+$/, 401, 1, 50027);
    const caller = fake.user('expired');
    const att = fake.attachment({
      name: 'late.ogg',
      bytes: fixture('speech-stereo.opus.ogg'),
      contentType: 'audio/ogg',
    });
    const { token } = fake.fileCommand(caller, att);
    const posted = await fake.waitFor(
      () =>
        fake
          .channelRequests(fake.textChannelId)
          .find(
            (r) =>
              r.method === 'POST' && withEmbed(r.body) && String((r.body as Any).content).includes(caller.id),
          ),
      20_000,
      'the result in the channel',
    );
    await run.bot.idle();
    expect((posted.body as Any).embeds[0].title).toMatch(/^late\.ogg · /);
    const edits = fake.requests.filter((r) => r.path.includes(token) && r.method === 'PATCH');
    expect(edits).toHaveLength(1);
  });
});

describe('a result that could not be saved still reaches the user, saying so', () => {
  let run: Running;
  beforeAll(async () => {
    const failing: AnalysisStore = {
      ...world.store,
      get: (id) => world.store.get(id),
      userHistory: (...a) => world.store.userHistory(...a),
      save: async () => {
        throw new Error('database is locked');
      },
    };
    run = await startBot(world, {}, { analyzer: { ...world.services.analyzer, store: failing } });
  });
  afterAll(async () => run?.stop());

  it('the result embed arrives with the "could not be saved" line', async () => {
    const { fake } = run;
    const { dm } = sendDmVoiceNote(run.fake, 'unsaved');
    const edit = await fake.waitFor(
      () => fake.channelRequests(dm).find((r) => r.method === 'PATCH' && withEmbed(r.body)),
      20_000,
      'the result',
    );
    expect((edit.body as Any).content).toMatch(/could not be saved/);
    expect((edit.body as Any).embeds[0].title).toMatch(/^Voice message · /);
  });
});

describe('storage lost: new work refused, the owner told once', () => {
  let run: Running;
  const health = new MemoryStorageMonitor();
  beforeAll(async () => {
    run = await startBot(world, {}, { storageHealth: health });
  });
  afterAll(async () => run?.stop());

  it('refuses a voice message with the storage.unavailable text and DMs the owner once, however often it is asked', async () => {
    const { fake } = run;
    health.set({ state: 'lost', detail: 'the database file was deleted', since: new Date() });
    const ownerDm = fake.dmChannel(fake.owner);
    const first = sendDmVoiceNote(run.fake, 'refused-1');
    const refusal = await fake.waitFor(
      () => fake.channelRequests(first.dm).find((r) => r.method === 'POST'),
      20_000,
      'the refusal',
    );
    expect((refusal.body as Any).content).toMatch(/I cannot store results right now/);
    const notice = await fake.waitFor(
      () => fake.channelRequests(ownerDm).find((r) => r.method === 'POST'),
      20_000,
      "the owner's DM",
    );
    expect((notice.body as Any).content).toMatch(/lost its database: the database file was deleted/);
    health.set({ state: 'lost', detail: 'still gone', since: new Date() });
    const second = sendDmVoiceNote(run.fake, 'refused-2');
    await fake.waitFor(
      () => fake.channelRequests(second.dm).find((r) => r.method === 'POST'),
      20_000,
      'refusal',
    );
    await run.bot.idle();
    expect(fake.channelRequests(ownerDm).filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(fake.requests.some((r) => r.path.startsWith('/attachments/'))).toBe(false);
    expect(world.logs.join('')).toMatch(/STORAGE LOST/);
    health.set({ state: 'ok' });
  });
});

describe('restart recovery of a job whose result was stored', () => {
  let run: Running;
  beforeAll(async () => {
    run = await startBot(world);
  });
  afterAll(async () => run?.stop());

  it('edits the waiting reply into the stored result, once', async () => {
    const { fake } = run;
    const user = fake.user('stored');
    const dm = fake.dmChannel(user);
    const jobs = await journalWithStoredResult(world.store, {
      platform: 'discord',
      userId: user.id,
      channelId: dm,
      sourceName: 'earlier.ogg',
      reply: JSON.stringify({ kind: 'message', channelId: dm, sourceMessageId: '1', messageId: '4242' }),
    });
    const model = world.services.analyzer.classifier.info;
    const recovery = discordRecovery(run.bot.client, model, run.bot.logger, FAST_RETRY);
    await expectAnsweredOnce('discord', { jobs, store: world.store, log: run.bot.logger }, recovery);
    const edits = fake.channelRequests(dm).filter((r) => r.method === 'PATCH');
    expect(edits).toHaveLength(1);
    expect(edits[0]?.path).toMatch(/\/messages\/4242$/);
    expect((edits[0]?.body as Any | undefined)?.embeds[0].title).toMatch(
      /^earlier\.ogg · 0:05 · 1 speech segment$/,
    );
    expect(edits[0]?.files.map((f) => f.name)).toEqual(['timeline.png']);
  });

  it('an interaction left "thinking…" gets the restart message in its deferred reply, or in the channel once its token expired', async () => {
    const { fake } = run;
    const user = fake.user('slash');
    const jobs = new MemoryJobJournal();
    const handle = (token: string, createdAt: number) =>
      JSON.stringify({
        kind: 'interaction',
        applicationId: fake.applicationId,
        token,
        channelId: fake.textChannelId,
        userId: user.id,
        createdAt,
      });
    await jobs.open({
      platform: 'discord',
      userId: user.id,
      reply: handle('live-token', Date.now()),
      createdAt: new Date(),
    });
    await jobs.open({
      platform: 'discord',
      userId: user.id,
      reply: handle('old-token', Date.now() - 20 * 60_000),
      createdAt: new Date(),
    });
    const recovery = discordRecovery(
      run.bot.client,
      world.services.analyzer.classifier.info,
      run.bot.logger,
      FAST_RETRY,
    );
    const result = await answerUnfinishedJobs(
      await jobs.unfinished('discord'),
      { jobs, store: world.store, log: run.bot.logger },
      recovery,
    );
    expect(result).toEqual({ answered: 2, failed: 0 });
    const live = fake.requests.filter((r) => r.path.includes('/live-token/'));
    expect(live.map((r) => `${r.method} ${r.path.replace(/.*live-token/, '')}`)).toEqual([
      'PATCH /messages/%40original',
    ]);
    expect((live[0]?.body as Any | undefined)?.content).toMatch(/I restarted before I could finish/);
    expect(fake.requests.some((r) => r.path.includes('/old-token'))).toBe(false);
    const posted = fake
      .channelRequests(fake.textChannelId)
      .filter((r) => r.method === 'POST' && String((r.body as Any)?.content).includes(`<@${user.id}>`));
    expect(posted).toHaveLength(1);
    expect((posted[0]?.body as Any | undefined)?.content).toMatch(/I restarted before I could finish/);
  });
});
