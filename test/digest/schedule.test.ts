import { describe, expect, it } from 'vitest';
import {
  assertNotTooFrequent,
  buckets,
  latestFire,
  nextFire,
  parseSchedule,
  parseTimeZone,
  periodOf,
  previousPeriod,
  ScheduleError,
} from '../../src/digest/schedule.ts';
import { configure, openProc, PLATFORM, tempDb, WS } from './helpers.ts';

const iso = (d: Date | undefined) => d?.toISOString();

describe('digest schedules', () => {
  it('parses the presets and keeps a valid five-field cron expression as node-cron reads it', () => {
    expect(parseSchedule('daily')).toMatchObject({ kind: 'daily', text: 'daily 09:00', cron: '0 9 * * *' });
    expect(parseSchedule('Daily 18:30')).toMatchObject({ text: 'daily 18:30', cron: '30 18 * * *' });
    expect(parseSchedule('weekly')).toMatchObject({
      kind: 'weekly',
      text: 'weekly mon 09:00',
      cron: '0 9 * * 1',
    });
    expect(parseSchedule('weekly friday 17:00')).toMatchObject({
      text: 'weekly fri 17:00',
      cron: '0 17 * * 5',
    });
    expect(parseSchedule(' 0  8 * * 1-5 ')).toMatchObject({ kind: 'cron', text: '0 8 * * 1-5' });
  });

  it('refuses a bad cron expression, a too-frequent one and a bad time with a clear message', () => {
    expect(() => parseSchedule('every day')).toThrow(/five fields/);
    expect(() => parseSchedule('61 9 * * *')).toThrow(/not a valid cron expression \(minute "61"\)/);
    expect(() => parseSchedule('*/5 * * * *')).toThrow(/at most once an hour/);
    expect(() => parseSchedule('0 0 9 * * 1')).toThrow(ScheduleError);
    expect(() => parseSchedule('daily 25:00')).toThrow(/not a time of day/);
    expect(() => parseSchedule('0 9 L * *')).toThrow(/not supported/);
    expect(() => parseSchedule('0 9 30 2 *')).toThrow(/dayOfMonth/);
    expect(() => assertNotTooFrequent(parseSchedule('0 9 29 2 *'), 'UTC', new Date('2026-03-01'))).toThrow(
      /never fires within a year/,
    );
  });

  it('accepts every real spelling of a weekday, in any case and either order, and keeps the three-letter form', () => {
    const spellings: [string, string][] = [
      ['weekly fri 17:00', 'fri'],
      ['weekly Friday 17:00', 'fri'],
      ['WEEKLY FRIDAYS 17:00', 'fri'],
      ['weekly 17:00 fri', 'fri'],
      ['weekly tues 17:00', 'tue'],
      ['weekly wednes 17:00', 'wed'],
      ['weekly wednesday 17:00', 'wed'],
      ['weekly thur 17:00', 'thu'],
      ['weekly Thurs 17:00', 'thu'],
      ['weekly sat 17:00', 'sat'],
      ['weekly sunday 17:00', 'sun'],
      ['weekly mon 17:00', 'mon'],
    ];
    for (const [input, day] of spellings)
      expect(parseSchedule(input).text, input).toBe(`weekly ${day} 17:00`);
    expect(parseSchedule('weekly sun').cron).toBe('0 9 * * 0');
    expect(parseSchedule('weekly 7:05').text).toBe('weekly mon 07:05');
  });

  it('refuses a mistyped weekday with the reason and the day it looks like, instead of saving Monday', () => {
    expect(() => parseSchedule('weekly fir 17:00')).toThrow(
      /^"fir" is not a day of the week: use mon, tue, wed, thu, fri, sat or sun \(or the full name\)\. Did you mean friday\?$/,
    );
    expect(() => parseSchedule('weekly thrusday 17:00')).toThrow(
      /"thrusday" is not a day.*Did you mean thursday\?/,
    );
    expect(() => parseSchedule('weekly 17:00 wendsday')).toThrow(
      /"wendsday" is not a day.*Did you mean wednesday\?/,
    );
    expect(() => parseSchedule('weekly monkey')).toThrow(/"monkey" is not a day of the week/);
    expect(() => parseSchedule('weekly mo 17:00')).toThrow(/"mo" is not a day of the week/);
    expect(() => parseSchedule('weekly xyzzy 17:00')).toThrow(/"xyzzy" is not a day of the week[^?]*$/);
    expect(() => parseSchedule('weekly fri mon')).toThrow(/one day and one time/);
    expect(() => parseSchedule('weekly 09:00 17:00')).toThrow(/one day and one time/);
    expect(() => parseSchedule('weekly fri 5pm')).toThrow(/"5pm" is not a time of day/);
  });

  it('stores nothing when the weekday is mistyped, and keeps the schedule a channel already had', async () => {
    const db = tempDb();
    const p = openProc(db.path, '2026-06-10T12:00:00Z');
    try {
      await expect(configure(p, { schedule: 'weekly thrusday 17:00' })).rejects.toThrow(ScheduleError);
      expect(await p.digests.workspaceConfigs(PLATFORM, WS)).toEqual([]);
      await configure(p, { schedule: 'weekly thu 17:00' });
      await expect(configure(p, { schedule: 'weekly fir 17:00' })).rejects.toThrow(/Did you mean friday/);
      const [config] = await p.digests.workspaceConfigs(PLATFORM, WS);
      expect(config?.schedule).toBe('weekly thu 17:00');
    } finally {
      await p.close();
      db.remove();
    }
  });

  it('accepts IANA time zones (as typed, case fixed) and refuses unknown ones', () => {
    expect(parseTimeZone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(parseTimeZone(' Asia/Kolkata ')).toBe('Asia/Kolkata');
    expect(parseTimeZone('utc')).toBe('UTC');
    expect(parseTimeZone('US/Eastern')).toBe('US/Eastern');
    expect(() => parseTimeZone('Mars/Olympus_Mons')).toThrow(/not a time zone I know.*IANA/);
    expect(() => parseTimeZone('')).toThrow(ScheduleError);
  });

  it('fires at the local time of several zones (Kolkata +5:30, Tokyo, New York, UTC)', () => {
    const at = new Date('2026-06-10T12:00:00Z'); // a Wednesday
    const daily = parseSchedule('daily 09:00');
    expect(iso(latestFire(daily, 'Asia/Kolkata', at))).toBe('2026-06-10T03:30:00.000Z');
    expect(iso(latestFire(daily, 'Asia/Tokyo', at))).toBe('2026-06-10T00:00:00.000Z');
    expect(iso(latestFire(daily, 'America/New_York', at))).toBe('2026-06-09T13:00:00.000Z');
    expect(iso(latestFire(daily, 'UTC', at))).toBe('2026-06-10T09:00:00.000Z');
    expect(iso(nextFire(parseSchedule('weekly fri 17:00'), 'Asia/Kolkata', at))).toBe(
      '2026-06-12T11:30:00.000Z',
    );
  });

  it('follows the DST change: New York daily 09:00 moves from 14:00Z to 13:00Z and its day has 23 hours', () => {
    const daily = parseSchedule('daily');
    // 8 March 2026, 02:00 EST → 03:00 EDT.
    const before = latestFire(daily, 'America/New_York', new Date('2026-03-07T15:00:00Z'));
    const after = latestFire(daily, 'America/New_York', new Date('2026-03-08T15:00:00Z'));
    expect(iso(before)).toBe('2026-03-07T14:00:00.000Z');
    expect(iso(after)).toBe('2026-03-08T13:00:00.000Z');
    const period = periodOf(daily, 'America/New_York', new Date('2026-03-09T13:00:00Z'));
    expect(iso(period.start)).toBe('2026-03-08T05:00:00.000Z');
    expect(iso(period.end)).toBe('2026-03-09T04:00:00.000Z');
    expect(buckets(period, 'America/New_York')).toHaveLength(23);
  });

  it('runs a time skipped by spring-forward an hour later, and a repeated time once (Berlin 02:30)', () => {
    const s = parseSchedule('daily 02:30');
    // 29 March 2026: 02:00 CET → 03:00 CEST; 02:30 never happens, so it fires at 03:30 CEST (01:30Z).
    expect(iso(latestFire(s, 'Europe/Berlin', new Date('2026-03-29T12:00:00Z')))).toBe(
      '2026-03-29T01:30:00.000Z',
    );
    // 25 October 2026: 02:30 happens twice (CEST, then CET); only the first fires.
    const first = nextFire(s, 'Europe/Berlin', new Date('2026-10-24T12:00:00Z'));
    expect(iso(first)).toBe('2026-10-25T00:30:00.000Z');
    expect(iso(nextFire(s, 'Europe/Berlin', first as Date))).toBe('2026-10-26T01:30:00.000Z');
    // And that day's period (25 October) has 25 hours.
    const p = periodOf(s, 'Europe/Berlin', new Date('2026-10-26T01:30:00Z'));
    expect(p.end.getTime() - p.start.getTime()).toBe(25 * 3600_000);
  });

  it('reports weekly on the seven local days before the fire, charted per day, and a cron on the time since its last fire', () => {
    const weekly = parseSchedule('weekly mon 09:00');
    const fire = latestFire(weekly, 'Europe/Berlin', new Date('2026-03-31T00:00:00Z')) as Date;
    expect(iso(fire)).toBe('2026-03-30T07:00:00.000Z');
    const p = periodOf(weekly, 'Europe/Berlin', fire);
    expect(iso(p.start)).toBe('2026-03-22T23:00:00.000Z');
    expect(iso(p.end)).toBe('2026-03-29T22:00:00.000Z'); // 167 hours: the week of the change
    const days = buckets(p, 'Europe/Berlin');
    expect(days.map((d) => d.label)).toEqual([
      'Mon 23',
      'Tue 24',
      'Wed 25',
      'Thu 26',
      'Fri 27',
      'Sat 28',
      'Sun 29',
    ]);
    expect(iso(previousPeriod(weekly, 'Europe/Berlin', p).start)).toBe('2026-03-15T23:00:00.000Z');
    const cron = parseSchedule('0 18 * * 1,4');
    const c = periodOf(cron, 'UTC', new Date('2026-06-11T18:00:00Z'));
    expect(iso(c.start)).toBe('2026-06-08T18:00:00.000Z');
  });
});
