import { describe, expect, it } from 'vitest';
import type { BaselineKey } from '../../src/core/ports.ts';
import { BACKENDS, title, useBackend } from './backends.ts';

const key: BaselineKey = {
  platform: 'discord',
  workspaceId: 'g1',
  userId: 'u1',
  modelId: 'm',
  modelVersion: '1',
};
const now = new Date(1_000);

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip)(title(backend, 'BaselineStore (migration 5)'), () => {
    const env = useBackend(backend);

    it('keeps Welford statistics per user, workspace and model, exactly as the core computes them', async () => {
      const { baselines } = await env.open(await env.fresh());
      expect(await baselines.stats(key)).toBeUndefined();
      await baselines.add(key, [3, 6], now);
      await baselines.add(key, [5, 2], now);
      expect(await baselines.add(key, [1, 4], now)).toEqual({ count: 3, mean: [3, 4], m2: [8, 8] });
      expect(await baselines.stats(key)).toEqual({ count: 3, mean: [3, 4], m2: [8, 8] });
      // Doubles survive the round trip exactly.
      await baselines.add({ ...key, userId: 'u2' }, [0.1, 1 / 3], now);
      expect(await baselines.stats({ ...key, userId: 'u2' })).toEqual({
        count: 1,
        mean: [0.1, 1 / 3],
        m2: [0, 0],
      });
      expect(await baselines.stats({ ...key, workspaceId: 'g2' })).toBeUndefined();
      expect(await baselines.stats({ ...key, platform: 'slack' })).toBeUndefined();
    });

    it('reset deletes the user’s baseline in one workspace only', async () => {
      const { baselines } = await env.open(await env.fresh());
      await baselines.add(key, [1, 1], now);
      await baselines.add({ ...key, workspaceId: 'g2' }, [1, 1], now);
      expect(await baselines.reset('discord', 'g1', 'u1')).toBe(true);
      expect(await baselines.reset('discord', 'g1', 'u1')).toBe(false);
      expect(await baselines.stats(key)).toBeUndefined();
      expect((await baselines.stats({ ...key, workspaceId: 'g2' }))?.count).toBe(1);
    });

    it('forget (deleting the user’s results) deletes every baseline of theirs on that platform, and nobody else’s', async () => {
      const location = await env.fresh();
      const { baselines, results } = await env.open(location);
      await baselines.add(key, [1, 1], now);
      await baselines.add({ ...key, workspaceId: 'g2' }, [1, 1], now);
      await baselines.add({ ...key, userId: 'other' }, [1, 1], now);
      await baselines.add({ ...key, platform: 'slack' }, [1, 1], now);
      await results.deleteUser('discord', 'u1');
      const rows = await env.sql(
        location,
        'SELECT platform, user_id FROM voice_baselines ORDER BY platform, user_id',
      );
      expect(rows).toEqual([
        { platform: 'discord', user_id: 'other' },
        { platform: 'slack', user_id: 'u1' },
      ]);
    });

    it('an opted-out user never gets one, and opting out deletes theirs', async () => {
      const location = await env.fresh();
      const { baselines, settings } = await env.open(location);
      await baselines.add(key, [1, 1], now);
      await settings.setOptedOut('discord', 'u1', true);
      expect(await env.count(location, 'voice_baselines')).toBe(0);
      expect(await baselines.add(key, [1, 1], now)).toBeUndefined();
      expect(await env.count(location, 'voice_baselines')).toBe(0);
      await settings.setOptedOut('discord', 'u1', false);
      expect((await baselines.add(key, [1, 1], now))?.count).toBe(1);
    });

    it('a new model id or version starts over and drops the old statistics', async () => {
      const location = await env.fresh();
      const { baselines } = await env.open(location);
      await baselines.add(key, [1, 1], now);
      await baselines.add(key, [2, 2], now);
      expect(await baselines.add({ ...key, modelVersion: '2' }, [5, 5], now)).toEqual({
        count: 1,
        mean: [5, 5],
        m2: [0, 0],
      });
      expect(await baselines.stats(key)).toBeUndefined();
      await baselines.add({ ...key, modelId: 'n', modelVersion: '2' }, [5, 5], now);
      expect(await env.count(location, 'voice_baselines')).toBe(1);
    });

    it('two processes adding to one baseline at once lose no recording', async () => {
      const location = await env.fresh();
      const one = (await env.open(location)).baselines;
      const two = (await env.open(location)).baselines;
      await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).add(key, [i, 2 * i], now)));
      const stats = await one.stats(key);
      expect(stats?.count).toBe(20);
      expect(stats?.mean[0]).toBeCloseTo(9.5, 9);
      // Sum of squared deviations of 0..19 from 9.5: 665.
      expect(stats?.m2[0]).toBeCloseTo(665, 6);
    });

    it('migration 5 applies on top of a version-4 database', async () => {
      const location = await env.fresh();
      await env.migrateTo(location, 4);
      const storage = await env.open(location);
      await storage.baselines.add(key, [1, 2], now);
      expect(await env.count(location, 'voice_baselines')).toBe(1);
    });
  });
}
