import { schedule as cronSchedule } from 'node-cron';
import type { Clock } from '../core/ports.ts';

/** The real clock: node-cron runs the schedules (in their zones), Date gives the time. */
export class SystemClock implements Clock {
  now(): Date {
    return new Date();
  }

  cron(expression: string, timeZone: string, task: () => Promise<void>, signal: AbortSignal): void {
    if (signal.aborted) return;
    const job = cronSchedule(expression, () => task(), {
      timezone: timeZone,
      noOverlap: true,
      // Missed beats (a busy event loop) are not replayed by node-cron; the scheduler catches up itself.
      suppressMissedWarning: true,
    });
    signal.addEventListener('abort', () => void job.destroy(), { once: true });
  }
}
