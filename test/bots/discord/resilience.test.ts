import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ephemeralReply,
  fixture,
  openWorld,
  type Running,
  resultEdit,
  startBot,
  type World,
} from './harness.ts';

let world: World;
beforeAll(async () => {
  world = await openWorld();
});
afterAll(async () => world?.close());

function speech(r: Running, name = 'speech.ogg') {
  return r.fake.attachment({ name, bytes: fixture('speech-stereo.opus.ogg'), contentType: 'audio/ogg' });
}

describe('rate limits, REST 429, gateway resume', () => {
  let run: Running;
  beforeAll(async () => {
    run = await startBot(world, { RATE_LIMIT_USER_PER_MINUTE: '1', RATE_LIMIT_GUILD_PER_MINUTE: '3' });
  });
  afterAll(async () => run?.stop());

  it('answers a user over their rate limit with a friendly ephemeral reply and does no work', async () => {
    const { fake } = run;
    const uma = fake.user('uma');
    await resultEdit(run, fake.fileCommand(uma, speech(run)).token);
    const second = fake.fileCommand(uma, speech(run, 'again.ogg'));
    expect((await ephemeralReply(run, second.token)).content).toMatch(
      /faster than I can listen: please try again in \d+ seconds/,
    );
    expect(fake.requests.some((r) => r.path.includes('again.ogg'))).toBe(false);
  });

  it('limits a whole server too, naming the server rather than the user', async () => {
    const { fake } = run;
    await resultEdit(run, fake.fileCommand(fake.user('v1'), speech(run)).token);
    await resultEdit(run, fake.fileCommand(fake.user('v2'), speech(run)).token);
    const third = fake.fileCommand(fake.user('v3'), speech(run));
    expect((await ephemeralReply(run, third.token)).content).toMatch(
      /This server has asked for a lot of analyses/,
    );
  });

  it('honours a REST 429 retry-after and still delivers the reply', async () => {
    const { fake } = run;
    fake.rateLimitNext('PATCH', /\/webhooks\/\d+\/[^/]+\/messages\//, 1);
    const dm = fake.user('wanda');
    const { token } = fake.slash(dm, 'file', [{ type: 11, name: 'audio', value: '1' }], {
      guild: false,
      resolved: { attachments: { '1': { ...speech(run), id: '1' } } },
    });
    const edit = await resultEdit(run, token);
    const limited = fake.requests.find((r) => r.status === 429);
    expect(limited).toBeDefined();
    expect(edit.at - (limited?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('loses no reply when the gateway drops mid-analysis: it resumes and gets the interaction it missed', async () => {
    const { fake } = run;
    const release = fake.holdCdn();
    const first = fake.slash(fake.user('xena'), 'file', [{ type: 11, name: 'audio', value: '2' }], {
      guild: false,
      resolved: { attachments: { '2': { ...speech(run), id: '2' } } },
    });
    await fake.waitFor(() => fake.forInteraction(first.token).length > 0, 10_000, 'the deferral');
    fake.dropGateway(4000);
    // Dispatched while the bot is disconnected: only a resume replays it.
    const missed = fake.slash(fake.user('yuri'), 'file', [{ type: 11, name: 'audio', value: '3' }], {
      guild: false,
      resolved: { attachments: { '3': { ...speech(run), id: '3' } } },
    });
    await new Promise<void>((resolve) => fake.once('resumed', resolve));
    release();
    await resultEdit(run, first.token);
    await resultEdit(run, missed.token);
    expect(fake.resumes).toBe(1);
    expect(fake.identifies).toBe(1);
  });
});

describe('graceful shutdown', () => {
  it('lets running work finish within the grace period and tells the waiting user their job was abandoned', async () => {
    const run = await startBot(world, { WORK_CONCURRENCY: '1' });
    const { fake, bot } = run;
    const release = fake.holdCdn();
    const running = fake.fileCommand(fake.user('zara'), speech(run));
    await new Promise<void>((resolve) => fake.once('cdn', () => resolve()));
    const waiting = fake.fileCommand(fake.user('zack'), speech(run));
    await fake.waitFor(() => bot.queue.waiting === 1, 10_000, 'the second job to wait in the queue');
    const stopped = bot.shutdown(10_000);
    setTimeout(release, 200);
    const report = await stopped;
    expect(report).toEqual({ abandoned: 1, aborted: 0 });
    await resultEdit(run, running.token);
    expect((await ephemeralReply(run, waiting.token)).content).toMatch(/restarting .* send it again/);
    await fake.close();
  });

  it('aborts work that outlives the grace period and says so to its user', async () => {
    const run = await startBot(world);
    const { fake, bot } = run;
    fake.holdCdn(); // never released
    const stuck = fake.fileCommand(fake.user('amy'), speech(run));
    await new Promise<void>((resolve) => fake.once('cdn', () => resolve()));
    const report = await bot.shutdown(100);
    expect(report).toEqual({ abandoned: 0, aborted: 1 });
    expect((await ephemeralReply(run, stuck.token)).content).toMatch(/restarting/);
    // New work after shutdown is refused politely rather than dropped silently.
    await fake.close();
  });
});
