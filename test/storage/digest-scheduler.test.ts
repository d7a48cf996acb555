import { describe, expect, it } from 'vitest';
import type { OpenedStorage } from '../../src/storage/storage.ts';
import { CH, configure, PLATFORM, recording, schedulerOn, WS } from '../digest/helpers.ts';
import { BACKENDS, title, useBackend } from './backends.ts';

/** One process's digest scheduler on its own connection to the shared database, with its own clock. */
function scheduler(storage: OpenedStorage, name: string, now: string) {
  const stores = { store: storage.results, settings: storage.settings, digests: storage.digests };
  return { ...schedulerOn(stores, now, { name }), ...stores };
}

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip)(title(backend, 'digest scheduler of two processes on one database'), () => {
    const env = useBackend(backend);

    async function two(now: string) {
      const location = await env.fresh();
      const a = scheduler(await env.open(location), 'A', now);
      const b = scheduler(await env.open(location), 'B', now);
      return { a, b };
    }

    it('ticking at the same fires, they post each weekly digest once between them', async () => {
      const { a, b } = await two('2026-06-01T00:00:00Z');
      await configure(a, { schedule: 'weekly mon 09:00', timeZone: 'America/New_York', emptyLine: true });
      await Promise.all([a.scheduler.start(), b.scheduler.start()]);
      for (const at of ['2026-06-01T13:00:00Z', '2026-06-08T13:00:00Z', '2026-06-15T13:00:00Z']) {
        a.clock.set(at);
        b.clock.set(at);
        await Promise.all([a.scheduler.tick(), b.scheduler.tick(), a.scheduler.tick(), b.scheduler.tick()]);
      }
      expect(a.poster.posts.length + b.poster.posts.length).toBe(3);
      const runs = await a.digests.runs(PLATFORM, WS, CH);
      expect(runs.map((r) => r.status)).toEqual(['posted', 'posted', 'posted']);
      await Promise.all([a.scheduler.stop(1000), b.scheduler.stop(1000)]);
    });

    it('they run the daily retention purge once between them, per workspace retention and 90 days by default (DMs too)', async () => {
      const { a, b } = await two('2026-06-01T03:00:00Z');
      const { store } = a;
      await a.settings.updateWorkspace(PLATFORM, 'G7', { retentionDays: 7 });
      await store.save(recording('2026-05-20T00:00:00Z', 'u', [['sad', 0.9]], { workspaceId: 'G7' })); // 12 days
      await store.save(recording('2026-05-30T00:00:00Z', 'u', [['sad', 0.9]], { workspaceId: 'G7' })); // 2 days
      await store.save(recording('2026-02-01T00:00:00Z', 'u', [['sad', 0.9]])); // 120 days
      await store.save(recording('2026-04-01T00:00:00Z', 'u', [['sad', 0.9]])); // 61 days
      const { workspaceId: _w, ...dm } = recording('2026-01-01T00:00:00Z', 'u', [['sad', 0.9]]);
      await store.save(dm); // a DM (no workspace), 151 days
      await store.save(recording('2026-01-01T00:00:00Z', 'u', [['sad', 0.9]], { platform: 'cli' }));
      await Promise.all([a.scheduler.start(), b.scheduler.start()]);
      // Yesterday's 03:30 purge was due at start: exactly one of the two ran it.
      expect(await store.userHistory(PLATFORM, 'u', 10)).toHaveLength(2);
      expect(await store.userHistory('cli', 'u', 10)).toHaveLength(1);
      a.clock.set('2026-06-01T03:30:00Z');
      b.clock.set('2026-06-01T03:30:00Z');
      const [ra, rb] = await Promise.all([a.scheduler.tick(), b.scheduler.tick()]);
      expect([ra.purged, rb.purged].filter((x) => x !== null)).toEqual([0]);
      await Promise.all([a.scheduler.stop(1000), b.scheduler.stop(1000)]);
    });
  });
}
