import { afterEach, describe, expect, it } from 'vitest';
import { digestLines, emptyLine } from '../../src/digest/text.ts';
import { CH, configure, openProc, PLATFORM, type Proc, recording, tempDb, WS } from './helpers.ts';

let procs: Proc[] = [];
let cleanup: (() => void)[] = [];
afterEach(async () => {
  for (const p of procs) await p.close();
  for (const c of cleanup) c();
  procs = [];
  cleanup = [];
});

function setup(now: string, name?: string, path?: string) {
  let dbPath = path;
  if (!dbPath) {
    const db = tempDb();
    cleanup.push(db.remove);
    dbPath = db.path;
  }
  const p = openProc(dbPath, now, name ? { name } : {});
  procs.push(p);
  return { p, path: dbPath };
}

const bold = (s: string) => `**${s}**`;

describe('digest scheduler (fake clock, real SQLite)', () => {
  it('posts a Tokyo daily digest once at 09:00 local with counts, mix, change and high-confidence moments, never a name', async () => {
    const { p } = setup('2026-06-09T12:00:00Z');
    await configure(p, { schedule: 'daily 09:00', timeZone: 'Asia/Tokyo' });
    // The day before (9 June, Tokyo) and the day reported (10 June, Tokyo = 9 June 15:00Z → 10 June 15:00Z).
    await p.store.save(recording('2026-06-09T03:00:00Z', 'u1', [['neutral', 0.9]]));
    await p.store.save(recording('2026-06-09T16:00:00Z', 'u1', [['happy', 0.85], ['happy', 0.7], null]));
    await p.store.save(
      recording('2026-06-10T02:00:00Z', 'u2', [
        ['anger', 0.95],
        ['neutral', 0.6],
      ]),
    );
    await p.store.save(
      recording('2026-06-10T03:00:00Z', 'u3', [['sad', 0.5]], {
        outcome: { status: 'failed', error: { code: 'audio.corrupt', message: 'x' } },
      }),
    );
    await p.scheduler.start();
    expect(p.poster.posts).toEqual([]); // turned on at 21:00 JST: the first fire is tomorrow 09:00 JST
    await p.clock.advanceTo('2026-06-10T23:59:00Z');
    expect(p.poster.posts).toHaveLength(1); // 9 June (JST)
    await p.clock.advanceTo('2026-06-11T00:30:00Z');
    expect(p.poster.posts).toHaveLength(2);
    const { digest } = p.poster.posts[1] as (typeof p.poster.posts)[0];
    expect(digest.period.start.toISOString()).toBe('2026-06-09T15:00:00.000Z');
    expect(digest.current).toMatchObject({ recordings: 2, speechSegments: 4 });
    expect(digest.current.speakingMinutes).toBeCloseTo(20 / 60);
    expect(digest.current.distribution.map((d) => [d.label, d.share])).toEqual([
      ['happy', 0.5],
      ['anger', 0.25],
      ['neutral', 0.25],
    ]);
    expect(digest.current.moments).toEqual([
      { label: 'anger', count: 1 },
      { label: 'fear', count: 0 },
      { label: 'sad', count: 0 },
      { label: 'happy', count: 1 },
    ]);
    expect(digest.previous.recordings).toBe(1);
    expect(digest.granularity).toBe('hour');
    expect(digest.buckets).toHaveLength(24);
    const text = digestLines(digest, bold).join('\n');
    expect(text).toMatch(/2 recordings, 0.3 min of speech/);
    expect(text).toMatch(/Compared with the day before:\*\* ▲ 1 recording, no change in min of speech/);
    expect(text).toMatch(/happy 50% \(▲50 pts\)/);
    expect(text).toMatch(/High-confidence moments\*\* \(≥ 80%\): 2 — anger 1 · fear 0 · sad 0 · happy 1/);
    expect(text).not.toMatch(/u1|u2|clip-of/);
    const runs = await p.digests.runs(PLATFORM, WS, CH);
    expect(runs).toMatchObject([
      { status: 'posted', attempts: 1, messageId: 'm1' },
      { status: 'posted', attempts: 1, messageId: 'm2' },
    ]);
  });

  it('an empty period posts nothing by default, and one short line when the channel asked for it', async () => {
    const { p } = setup('2026-06-01T00:00:00Z');
    await configure(p, { schedule: 'daily 08:00', timeZone: 'UTC' });
    await configure(p, { schedule: 'daily 08:00', timeZone: 'UTC', emptyLine: true }, 'C2');
    await p.scheduler.start();
    await p.clock.advanceTo('2026-06-01T09:00:00Z');
    expect(p.poster.posts.map((x) => x.config.channelId)).toEqual(['C2']);
    expect(emptyLine((p.poster.posts[0] as (typeof p.poster.posts)[0]).digest)).toBe(
      'Mood digest for <#C2>: no recordings were analysed on Sun 31 May 2026.',
    );
    expect(await p.digests.runs(PLATFORM, WS, CH)).toMatchObject([{ status: 'empty' }]);
  });

  it("leaves opted-out people's recordings out entirely (counts, minutes, mix, moments, chart)", async () => {
    const { p } = setup('2026-06-01T00:00:00Z');
    await configure(p, { schedule: 'daily 08:00' });
    await p.store.save(
      recording('2026-06-01T10:00:00Z', 'shy', [
        ['anger', 0.99],
        ['anger', 0.99],
      ]),
    );
    await p.store.save(recording('2026-06-01T11:00:00Z', 'open', [['happy', 0.9]]));
    await p.settings.setOptedOut(PLATFORM, 'shy', true);
    await p.scheduler.start();
    await p.clock.advanceTo('2026-06-02T08:00:00Z');
    const { digest } = p.poster.posts[0] as (typeof p.poster.posts)[0];
    expect(digest.current).toMatchObject({ recordings: 1, speechSegments: 1 });
    expect(digest.current.distribution.map((d) => d.label)).toEqual(['happy']);
    expect(digest.current.moments.find((m) => m.label === 'anger')?.count).toBe(0);
    expect(digest.buckets.flatMap((b) => Object.keys(b.counts))).toEqual(['happy']);
  });

  it('a restart (new scheduler, same database, same minute) does not post the same digest again', async () => {
    const { p, path } = setup('2026-06-01T00:00:00Z', 'first');
    await configure(p, { schedule: 'daily 08:00', emptyLine: true });
    await p.scheduler.start();
    await p.clock.advanceTo('2026-06-01T08:00:30Z');
    expect(p.poster.posts).toHaveLength(1);
    await p.close();
    procs = procs.filter((x) => x !== p);
    const { p: again } = setup('2026-06-01T08:01:00Z', 'second', path);
    const report = await again.scheduler.start();
    expect(report.posted).toEqual([]);
    expect(again.poster.posts).toEqual([]);
    expect(await again.digests.runs(PLATFORM, WS, CH)).toMatchObject([
      { status: 'posted', claimedBy: 'first' },
    ]);
  });

  it('after three days down, posts only the latest missed daily digest, once', async () => {
    const { p, path } = setup('2026-06-01T00:00:00Z', 'before');
    await configure(p, { schedule: 'daily 08:00', timeZone: 'Europe/Berlin', emptyLine: true });
    await p.close();
    procs = procs.filter((x) => x !== p);
    // Down from 1 June 00:00Z to 4 June 12:00Z: the 1, 2, 3 and 4 June digests were all due.
    const { p: back } = setup('2026-06-04T12:00:00Z', 'after', path);
    const report = await back.scheduler.start();
    expect(report.posted).toEqual([`${WS}/${CH}`]);
    expect(back.poster.posts).toHaveLength(1);
    expect((back.poster.posts[0] as (typeof back.poster.posts)[0]).digest.period.start.toISOString()).toBe(
      '2026-06-02T22:00:00.000Z', // 3 June, Berlin
    );
    await back.scheduler.tick();
    expect(back.poster.posts).toHaveLength(1);
    expect(await back.digests.runs(PLATFORM, WS, CH)).toHaveLength(1);
  });

  it('a failed post is marked failed, retried after 1 and 5 minutes, then succeeds once', async () => {
    const { p } = setup('2026-06-01T00:00:00Z');
    await configure(p, { schedule: 'daily 08:00', emptyLine: true });
    p.poster.failures = 2;
    await p.scheduler.start();
    p.clock.set('2026-06-01T08:00:00Z');
    expect((await p.scheduler.tick()).failed).toHaveLength(1);
    const key = { platform: PLATFORM, workspaceId: WS, channelId: CH };
    expect(await p.digests.runs(key.platform, key.workspaceId, key.channelId)).toMatchObject([
      { status: 'failed', attempts: 1, nextAttemptAt: Date.parse('2026-06-01T08:01:00Z') },
    ]);
    p.clock.set('2026-06-01T08:00:30Z');
    expect(await p.scheduler.tick()).toMatchObject({ failed: [], posted: [] }); // not due yet
    p.clock.set('2026-06-01T08:01:00Z');
    expect((await p.scheduler.tick()).failed).toHaveLength(1);
    p.clock.set('2026-06-01T08:06:00Z');
    expect((await p.scheduler.tick()).posted).toHaveLength(1);
    await p.scheduler.tick();
    expect(p.poster.posts).toHaveLength(1);
    expect(await p.digests.runs(PLATFORM, WS, CH)).toMatchObject([{ status: 'posted', attempts: 3 }]);
  });

  it('gives up after the last retry and never posts that period', async () => {
    const { p } = setup('2026-06-01T00:00:00Z');
    await configure(p, { schedule: 'daily 08:00', emptyLine: true });
    p.poster.failures = 10;
    await p.scheduler.start();
    for (const at of ['08:00', '08:01', '08:06', '08:36', '09:36', '12:00']) {
      p.clock.set(`2026-06-01T${at}:00Z`);
      await p.scheduler.tick();
    }
    expect(await p.digests.runs(PLATFORM, WS, CH)).toMatchObject([
      { status: 'failed', attempts: 4, nextAttemptAt: null },
    ]);
  });

  it('follows a DST change with the fake clock: New York daily 09:00 fires at 14:00Z, then 13:00Z', async () => {
    const { p } = setup('2026-03-06T00:00:00Z');
    await configure(p, { schedule: 'daily', timeZone: 'America/New_York', emptyLine: true });
    await p.scheduler.start();
    const fired: string[] = [];
    const original = p.poster.post.bind(p.poster);
    p.poster.post = async (c, d, s) => {
      fired.push(p.clock.now().toISOString());
      return original(c, d, s);
    };
    await p.clock.advanceTo('2026-03-10T00:00:00Z');
    expect(fired).toEqual([
      '2026-03-06T14:00:00.000Z',
      '2026-03-07T14:00:00.000Z',
      '2026-03-08T13:00:00.000Z',
      '2026-03-09T13:00:00.000Z',
    ]);
    const last = p.poster.posts.at(-1)?.digest;
    expect(last?.buckets).toHaveLength(23); // 8 March had 23 hours
  });

  it('stop() aborts a post in flight (marked failed for a retry) and fires nothing afterwards', async () => {
    const { p } = setup('2026-06-01T00:00:00Z');
    await configure(p, { schedule: 'daily 08:00', emptyLine: true });
    await p.scheduler.start();
    expect(p.clock.registrations).toBe(1);
    p.poster.hang = true;
    const advancing = p.clock.advanceTo('2026-06-01T08:00:00Z');
    await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    await p.scheduler.stop(2000);
    await advancing;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(p.clock.registrations).toBe(0);
    expect(await p.digests.runs(PLATFORM, WS, CH)).toMatchObject([{ status: 'failed', attempts: 1 }]);
    p.poster.hang = false;
    await p.clock.advanceTo('2026-06-03T09:00:00Z');
    expect(p.poster.posts).toEqual([]);
  });

  it('a running scheduler picks up a digest another process configured at its next reload beat, and follows a schedule change', async () => {
    const db = tempDb();
    cleanup.push(db.remove);
    const a = openProc(db.path, '2026-06-01T00:00:00Z', { name: 'A', reloadCron: '0 * * * *' });
    const b = openProc(db.path, '2026-06-01T00:00:00Z', { name: 'B' });
    procs.push(a, b);
    await a.scheduler.start();
    expect(a.clock.registrations).toBe(1); // the reload beat only
    await configure(b, { schedule: '30 6 * * *', timeZone: 'UTC', emptyLine: true }); // by the other process
    await a.clock.advanceTo('2026-06-01T06:40:00Z');
    expect(a.clock.registrations).toBe(2); // reload beat + the new schedule
    expect(a.poster.posts.map((x) => x.digest.period.end.toISOString())).toEqual([
      '2026-06-01T06:30:00.000Z',
    ]);
    b.clock.set('2026-06-01T07:00:00Z');
    await configure(b, { schedule: 'daily 12:00' });
    await a.clock.advanceTo('2026-06-02T12:00:00Z');
    // The 06:30 schedule is gone (no 2 June 06:30 digest); the 12:00 one posts 31 May and 1 June, once each.
    expect(a.poster.posts.map((x) => x.digest.period.start.toISOString())).toEqual([
      '2026-05-31T06:30:00.000Z',
      '2026-05-31T00:00:00.000Z',
      '2026-06-01T00:00:00.000Z',
    ]);
    expect(a.clock.registrations).toBe(2);
  });

  it('refuses a bad cron expression and an unknown time zone without changing the stored settings', async () => {
    const { p } = setup('2026-06-01T00:00:00Z');
    await configure(p, { schedule: 'daily 08:00', timeZone: 'Europe/Paris' });
    await expect(configure(p, { schedule: '0 25 * * *' })).rejects.toThrow(
      /not a valid cron expression \(hour "25"\)/,
    );
    await expect(configure(p, { timeZone: 'Europe/Atlantis' })).rejects.toThrow(/not a time zone I know/);
    expect(await p.digests.config(PLATFORM, WS, CH)).toMatchObject({
      schedule: 'daily 08:00',
      timeZone: 'Europe/Paris',
      enabled: true,
    });
  });
});
