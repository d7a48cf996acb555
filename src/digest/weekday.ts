import { ScheduleError } from './schedule-error.ts';

/**
 * Weekdays as admins type them in `weekly [day] [HH:MM]`. A word that is not a weekday is refused with
 * the reason, never read as the default day: a digest posted on the wrong day is worse than an answer
 * asking to type it again.
 */

/** Index = JavaScript's (and cron's) weekday number, Sunday 0. */
const FULL_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

/** The three-letter name stored and shown ("weekly fri 17:00"). */
export function weekdayAbbreviation(day: number): string {
  return (FULL_NAMES[day] ?? 'mon').slice(0, 3);
}

/**
 * A weekday in any case: its name or any prefix of it from three letters (mon, tues, thurs, wednes,
 * friday), or the full name's plural (fridays). Throws ScheduleError, with the closest day when the word
 * looks like a misspelt one ("fir", "thrusday").
 */
export function parseWeekday(word: string): number {
  const w = word.toLowerCase();
  const day = FULL_NAMES.findIndex((full) => (w.length >= 3 && full.startsWith(w)) || w === `${full}s`);
  if (day >= 0) return day;
  const near = closestWeekday(w);
  const hint = near === undefined ? '' : ` Did you mean ${FULL_NAMES[near]}?`;
  throw new ScheduleError(
    `"${word.slice(0, 20)}" is not a day of the week: use mon, tue, wed, thu, fri, sat or sun (or the full name).${hint}`,
  );
}

/** The day whose short or full name is within two typing mistakes of `word`, if exactly one is closest. */
function closestWeekday(word: string): number | undefined {
  let best: number | undefined;
  let bestDistance = 3;
  let tie = false;
  FULL_NAMES.forEach((full, day) => {
    const d = Math.min(typingDistance(word, full), typingDistance(word, full.slice(0, 3)));
    if (d < bestDistance) {
      best = day;
      bestDistance = d;
      tie = false;
    } else if (d === bestDistance && day !== best) tie = true;
  });
  return tie ? undefined : best;
}

/**
 * Edits (insert, delete, substitute, swap two neighbours) between two short words: the optimal string
 * alignment distance, enough to recognise "fir" as "fri" and "thrusday" as "thursday".
 */
function typingDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, at(i - 2, j - 2) + 1);
      row[j] = d;
    }
  }
  return at(a.length, b.length);
}
