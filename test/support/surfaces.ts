import type { JobOutcome, Surface } from '../../src/bots/shared/job.ts';
import type { Reply } from '../../src/bots/shared/replies.ts';

/**
 * A platform's surface reduced to what it was asked to show: refusals, how often the waiting reply was
 * opened (it journals `{ where: 'here' }` as its reply handle) and the final outcomes.
 */
export function recordingSurface() {
  const shown: { refused: Reply[]; opened: number; outcomes: JobOutcome[] } = {
    refused: [],
    opened: 0,
    outcomes: [],
  };
  const surface: Surface = {
    progressPolicy: { everyMs: 0 },
    refuse: async (r) => void shown.refused.push(r),
    open: async (ticket) => {
      shown.opened++;
      await ticket.reply({ where: 'here' });
      return true;
    },
    progress: async () => undefined,
    done: async (o) => void shown.outcomes.push(o),
  };
  return { shown, surface };
}
