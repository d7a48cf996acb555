/**
 * Wall-clock arithmetic in IANA time zones with nothing but Intl: what a zone's clock reads at an instant,
 * and which instant a zone's clock reading names (DST gaps and repeats handled explicitly).
 */

export interface WallTime {
  readonly year: number;
  /** 1–12 */
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  /** 0 = Sunday … 6 = Saturday */
  readonly weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/**
 * The zone's name as it will be stored, or undefined when Intl does not know it ("Mars/Base", "").
 * Kept as the admin typed it (ICU still resolves Asia/Kolkata to Asia/Calcutta), case fixed when Intl's
 * own spelling differs only in case ("utc" → "UTC").
 */
export function canonicalTimeZone(name: string): string | undefined {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > 64) return undefined;
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: trimmed }).resolvedOptions().timeZone;
    return resolved.toLowerCase() === trimmed.toLowerCase() ? resolved : trimmed;
  } catch {
    return undefined;
  }
}

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** What the zone's clock reads at `instant`. */
export function wallTime(instant: Date | number, timeZone: string): WallTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(instant)) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    weekday: WEEKDAYS[parts.weekday ?? ''] ?? 0,
  };
}

/** Zone offset from UTC at `instant`, in ms (positive east of Greenwich). */
export function offsetMs(instant: number, timeZone: string): number {
  const w = wallTime(instant, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  return asUtc - Math.floor(instant / 60_000) * 60_000;
}

function readsBack(instant: number, w: Omit<WallTime, 'weekday'>, timeZone: string): boolean {
  const r = wallTime(instant, timeZone);
  return (
    r.year === w.year && r.month === w.month && r.day === w.day && r.hour === w.hour && r.minute === w.minute
  );
}

/**
 * The instant the zone's clock reads `w`. A reading that happens twice (clocks turned back) is its first
 * occurrence; a reading that never happens (clocks turned forward) is moved later by the gap (02:30 on
 * the spring-forward night in Berlin is 03:30 CEST), as Vixie cron runs jobs of a skipped hour.
 */
export function zonedInstant(w: Omit<WallTime, 'weekday'>, timeZone: string): number {
  const guess = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  const a = guess - offsetMs(guess, timeZone);
  const b = guess - offsetMs(a, timeZone);
  const candidates = [...new Set([a, b, guess - offsetMs(guess - 3 * 3600_000, timeZone)])].sort(
    (x, y) => x - y,
  );
  for (const c of candidates) if (readsBack(c, w, timeZone)) return c;
  return Math.max(a, b);
}

/** Local calendar date arithmetic (no zone involved). */
export function addDays(
  date: { year: number; month: number; day: number },
  days: number,
): { year: number; month: number; day: number; weekday: number } {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    weekday: d.getUTCDay(),
  };
}

/** The instant the zone's calendar day `date` begins. */
export function startOfDay(date: { year: number; month: number; day: number }, timeZone: string): number {
  return zonedInstant({ ...date, hour: 0, minute: 0 }, timeZone);
}
