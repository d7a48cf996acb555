import { getTasks } from 'node-cron';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/digest/clock.ts';

describe('SystemClock (node-cron)', () => {
  it('registers a node-cron task in the given zone and destroys it when the signal aborts', () => {
    const clock = new SystemClock();
    const before = getTasks().size;
    const controller = new AbortController();
    clock.cron('0 9 * * 1', 'Asia/Kolkata', async () => {}, controller.signal);
    expect(getTasks().size).toBe(before + 1);
    const task = [...getTasks().values()].at(-1);
    expect(task?.getPattern()).toBe('0 9 * * 1');
    expect(task?.match(new Date('2026-06-08T03:30:00Z'))).toBe(true); // Monday 09:00 IST
    controller.abort();
    expect(getTasks().size).toBe(before);
    expect(Math.abs(clock.now().getTime() - Date.now())).toBeLessThan(1000);
  });

  it('registers nothing for an already aborted signal', () => {
    const before = getTasks().size;
    new SystemClock().cron('* * * * *', 'UTC', async () => {}, AbortSignal.abort());
    expect(getTasks().size).toBe(before);
  });
});
