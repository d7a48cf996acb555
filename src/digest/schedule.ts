import { validateDetailed } from 'node-cron';
import { ScheduleError } from './schedule-error.ts';
import { parseWeekday, weekdayAbbreviation } from './weekday.ts';
import { addDays, canonicalTimeZone, startOfDay, type WallTime, wallTime, zonedInstant } from './zone.ts';

/**
 * Digest schedules: the presets `daily [HH:MM]` and `weekly [day] [HH:MM]`, or a five-field cron
 * expression in node-cron's syntax (validated by node-cron, and run by it in production), each in an
 * IANA time zone. Fire times and periods are computed here, from the zone's wall clock, so a fake clock
 * drives them exactly as the real one does.
 */

export type ScheduleKind = 'daily' | 'weekly' | 'cron';

export interface Schedule {
  readonly kind: ScheduleKind;
  /** Canonical text as stored and shown: "daily 09:00", "weekly mon 09:00", or the cron expression. */
  readonly text: string;
  /** The node-cron expression that fires it. */
  readonly cron: string;
}

export interface Period {
  /** Inclusive. */
  readonly start: Date;
  /** Exclusive. */
  readonly end: Date;
}

export { ScheduleError };

export const DEFAULT_SCHEDULE = 'weekly mon 09:00';
export const DEFAULT_TIME_ZONE = 'UTC';
/** Digests are summaries: a schedule may fire at most this often. */
const MIN_INTERVAL_MS = 60 * 60_000;
/** Cron searches look this many local days back or ahead (a yearly schedule still fires within it). */
const SEARCH_DAYS = 400;

function parseClock(text: string | undefined, fallback: [number, number]): [number, number] {
  if (text === undefined) return fallback;
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (!m)
    throw new ScheduleError(`"${text.slice(0, 20)}" is not a time of day: use HH:MM, e.g. 09:00 or 18:30.`);
  return [Number(m[1]), Number(m[2])];
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Parses and validates a schedule; throws ScheduleError with a message fit to show an admin. */
export function parseSchedule(input: string): Schedule {
  const text = input.trim().replace(/\s+/g, ' ');
  const words = text.toLowerCase().split(' ');
  const head = words[0] ?? '';
  if (head === 'daily') {
    if (words.length > 2) throw new ScheduleError('Use `daily` or `daily HH:MM` (e.g. `daily 18:30`).');
    const [h, m] = parseClock(words[1], [9, 0]);
    return { kind: 'daily', text: `daily ${pad(h)}:${pad(m)}`, cron: `${m} ${h} * * *` };
  }
  if (head === 'weekly') {
    if (words.length > 3)
      throw new ScheduleError('Use `weekly`, `weekly fri` or `weekly fri 17:00` (day: mon … sun).');
    // A word with a digit is the time, any other the day (in either order); each at most once.
    const rest = words.slice(1);
    const days = rest.filter((w) => !/\d/.test(w));
    const clocks = rest.filter((w) => /\d/.test(w));
    if (days.length > 1 || clocks.length > 1)
      throw new ScheduleError('Give one day and one time: `weekly fri 17:00` (day: mon … sun).');
    const day = days[0] === undefined ? 1 : parseWeekday(days[0]);
    const [h, m] = parseClock(clocks[0], [9, 0]);
    return {
      kind: 'weekly',
      text: `weekly ${weekdayAbbreviation(day)} ${pad(h)}:${pad(m)}`,
      cron: `${m} ${h} * * ${day}`,
    };
  }
  return { kind: 'cron', text, cron: validateCron(text) };
}

function validateCron(text: string): string {
  if (text.startsWith('@'))
    throw new ScheduleError('Use `daily`, `weekly` or a five-field cron expression instead of @-names.');
  const fields = text.split(' ');
  if (fields.length !== 5)
    throw new ScheduleError(
      `"${text.slice(0, 60)}" is not a schedule: use \`daily [HH:MM]\`, \`weekly [day] [HH:MM]\`, or a cron expression with five fields (minute hour day-of-month month day-of-week), e.g. \`0 9 * * 1\`.`,
    );
  const result = validateDetailed(text);
  if (!result.valid || !result.fields) {
    const first = result.errors[0];
    const field = first?.field ? ` (${first.field}${first.value ? ` "${first.value}"` : ''})` : '';
    throw new ScheduleError(`"${text.slice(0, 60)}" is not a valid cron expression${field}.`);
  }
  const f = result.fields;
  if ([...f.dayOfMonth, ...f.dayOfWeek].some((v) => typeof v !== 'number'))
    throw new ScheduleError('L, W and # in cron expressions are not supported for digests.');
  const fields5 = fieldsOf(text);
  // At most hourly: two fires within the hour (e.g. `*/30 * * * *`) is a feed, not a digest.
  if (fields5.minutes.length > 1)
    throw new ScheduleError('A digest can be posted at most once an hour: give the minute field one value.');
  return text;
}

interface CronFields {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly days: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly weekdays: ReadonlySet<number>;
}

const fieldCache = new Map<string, CronFields>();
function fieldsOf(cron: string): CronFields {
  let f = fieldCache.get(cron);
  if (!f) {
    const parsed = validateDetailed(cron).fields;
    if (!parsed) throw new ScheduleError(`invalid cron expression ${cron}`);
    const nums = (v: readonly (number | string)[]) => v.filter((x): x is number => typeof x === 'number');
    f = {
      minutes: [...parsed.minute].sort((a, b) => a - b),
      hours: [...parsed.hour].sort((a, b) => a - b),
      days: new Set(nums(parsed.dayOfMonth)),
      months: new Set(parsed.month),
      weekdays: new Set(nums(parsed.dayOfWeek)),
    };
    fieldCache.set(cron, f);
  }
  return f;
}

/** Validates an IANA zone name and returns its canonical spelling. */
export function parseTimeZone(input: string): string {
  const zone = canonicalTimeZone(input);
  if (!zone)
    throw new ScheduleError(
      `"${input.trim().slice(0, 40)}" is not a time zone I know: use an IANA name such as Europe/Berlin, America/New_York or UTC.`,
    );
  return zone;
}

type Day = { year: number; month: number; day: number; weekday: number };

function dayMatches(f: CronFields, d: Day): boolean {
  return f.months.has(d.month) && f.days.has(d.day) && f.weekdays.has(d.weekday);
}

/** Fire instants of one local day, ascending; wall times repeated by a DST change fire once. */
function firesOn(f: CronFields, d: Day, timeZone: string): number[] {
  const out: number[] = [];
  for (const hour of f.hours)
    for (const minute of f.minutes) {
      const t = zonedInstant({ year: d.year, month: d.month, day: d.day, hour, minute }, timeZone);
      if (out.at(-1) !== t) out.push(t);
    }
  return out.sort((a, b) => a - b);
}

/** The latest fire at or before `at`, or undefined when none within a year. */
export function latestFire(schedule: Schedule, timeZone: string, at: Date): Date | undefined {
  const f = fieldsOf(schedule.cron);
  const now = at.getTime();
  const today: WallTime = wallTime(now, timeZone);
  for (let i = -1; i < SEARCH_DAYS; i++) {
    // Start one local day ahead: a gap-shifted time may belong to the next wall-clock day.
    const d = addDays(today, -i);
    if (!dayMatches(f, d)) continue;
    const fires = firesOn(f, d, timeZone).filter((t) => t <= now);
    const last = fires.at(-1);
    if (last !== undefined) return new Date(last);
  }
  return undefined;
}

/** The first fire strictly after `after`. */
export function nextFire(schedule: Schedule, timeZone: string, after: Date): Date | undefined {
  const f = fieldsOf(schedule.cron);
  const from = after.getTime();
  const today = wallTime(from, timeZone);
  for (let i = -1; i < SEARCH_DAYS; i++) {
    const d = addDays(today, i);
    if (!dayMatches(f, d)) continue;
    const first = firesOn(f, d, timeZone).find((t) => t > from);
    if (first !== undefined) return new Date(first);
  }
  return undefined;
}

/**
 * The period a fire reports on. Presets report on whole local calendar days: `daily` the day before the
 * fire's day (23 or 25 hours across a DST change), `weekly` the seven days before it. A cron schedule
 * reports on the time since its previous fire.
 */
export function periodOf(schedule: Schedule, timeZone: string, fire: Date): Period {
  if (schedule.kind === 'cron') {
    const previous = latestFire(schedule, timeZone, new Date(fire.getTime() - 1));
    const start = previous ?? new Date(fire.getTime() - 7 * 86_400_000);
    return { start, end: fire };
  }
  const fireDay = wallTime(fire, timeZone);
  const days = schedule.kind === 'daily' ? 1 : 7;
  return {
    start: new Date(startOfDay(addDays(fireDay, -days), timeZone)),
    end: new Date(startOfDay(fireDay, timeZone)),
  };
}

/** The period just before `period`, reported the same way (for "change from the previous period"). */
export function previousPeriod(schedule: Schedule, timeZone: string, period: Period): Period {
  if (schedule.kind === 'cron') {
    const start = latestFire(schedule, timeZone, new Date(period.start.getTime() - 1));
    return {
      start: start ?? new Date(period.start.getTime() - (period.end.getTime() - period.start.getTime())),
      end: period.start,
    };
  }
  const days = schedule.kind === 'daily' ? 1 : 7;
  const startDay = wallTime(period.start, timeZone);
  return { start: new Date(startOfDay(addDays(startDay, -days), timeZone)), end: period.start };
}

/** Throws when fires of the schedule come closer than an hour (checked over the next few fires). */
export function assertNotTooFrequent(schedule: Schedule, timeZone: string, from: Date): void {
  let t = nextFire(schedule, timeZone, from);
  for (let i = 0; t && i < 5; i++) {
    const n = nextFire(schedule, timeZone, t);
    if (n && n.getTime() - t.getTime() < MIN_INTERVAL_MS)
      throw new ScheduleError('A digest can be posted at most once an hour.');
    t = n;
  }
  if (!nextFire(schedule, timeZone, from))
    throw new ScheduleError('That cron expression never fires within a year.');
}

/** Chart buckets of a period: local hours for periods up to two days, else local days. */
export function buckets(period: Period, timeZone: string): { start: number; end: number; label: string }[] {
  const start = period.start.getTime();
  const end = period.end.getTime();
  const out: { start: number; end: number; label: string }[] = [];
  if (end - start <= 48 * 3600_000) {
    const first = wallTime(start, timeZone);
    // From the first local hour boundary at or before the start.
    let t = zonedInstant({ ...first, minute: 0 }, timeZone);
    while (t < end && out.length < 60) {
      const next = t + 3600_000;
      out.push({
        start: Math.max(t, start),
        end: Math.min(next, end),
        label: `${pad(wallTime(t, timeZone).hour)}h`,
      });
      t = next;
    }
    return out;
  }
  let day: Day = { ...wallTime(start, timeZone) };
  let t = startOfDay(day, timeZone);
  while (t < end && out.length < 62) {
    const nextDay = addDays(day, 1);
    const next = startOfDay(nextDay, timeZone);
    out.push({
      start: Math.max(t, start),
      end: Math.min(next, end),
      label: `${['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][day.weekday]} ${day.day}`,
    });
    day = nextDay;
    t = next;
  }
  return out;
}
