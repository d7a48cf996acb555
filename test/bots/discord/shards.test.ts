import { describe, expect, it } from 'vitest';
import { DiscordConfigError, loadDiscordConfig } from '../../../src/bots/discord/config.ts';
import { journalPlatform, recoveredJournalPlatforms } from '../../../src/bots/discord/shards.ts';

const env = { DISCORD_TOKEN: 'x', DISCORD_APPLICATION_ID: '123456789012345678' };
/** What discord.js's ShardingManager puts in the environment of the shard processes it spawns. */
const spawned = (id: number, count: number) => ({
  SHARDING_MANAGER: 'true',
  SHARDS: String(id),
  SHARD_COUNT: String(count),
});

describe('DISCORD_SHARDS', () => {
  it('unset, empty or 1: one process holds every server, as without sharding', () => {
    for (const value of [undefined, '', ' ', '1'])
      expect(loadDiscordConfig({ ...env, DISCORD_SHARDS: value }).sharding).toEqual({ kind: 'single' });
  });

  it('a count above 1 or auto: this process is the shard manager', () => {
    expect(loadDiscordConfig({ ...env, DISCORD_SHARDS: '4' }).sharding).toEqual({
      kind: 'manager',
      shards: 4,
    });
    expect(loadDiscordConfig({ ...env, DISCORD_SHARDS: ' auto ' }).sharding).toEqual({
      kind: 'manager',
      shards: 'auto',
    });
  });

  it('anything else is refused, naming the variable and what it takes', () => {
    for (const value of ['0', '-2', '1.5', 'two', 'AUTO1']) {
      expect(() => loadDiscordConfig({ ...env, DISCORD_SHARDS: value })).toThrow(DiscordConfigError);
      expect(() => loadDiscordConfig({ ...env, DISCORD_SHARDS: value })).toThrow(
        /DISCORD_SHARDS must be a positive whole number of shards \(e\.g\. 4\) or auto/,
      );
    }
  });

  it("a process spawned by the manager is the shard discord.js's variables name, whatever DISCORD_SHARDS says", () => {
    expect(loadDiscordConfig({ ...env, DISCORD_SHARDS: 'auto', ...spawned(1, 3) }).sharding).toEqual({
      kind: 'shard',
      id: 1,
      count: 3,
    });
    // An id outside the count is not a shard: such a process is not one discord.js spawned.
    expect(loadDiscordConfig({ ...env, ...spawned(3, 3) }).sharding).toEqual({ kind: 'single' });
  });
});

describe('DISCORD_SHARD_IDS (shards spread over machines)', () => {
  it('names the shards this machine runs, as ids and ranges', () => {
    expect(
      loadDiscordConfig({ ...env, DISCORD_SHARDS: '10', DISCORD_SHARD_IDS: '0-2, 7,9' }).sharding,
    ).toEqual({ kind: 'manager', shards: 10, ids: [0, 1, 2, 7, 9] });
  });

  it('is refused without a shard count, with auto, past the count, or malformed, saying why', () => {
    const refused: [Record<string, string>, RegExp][] = [
      [{ DISCORD_SHARD_IDS: '0' }, /DISCORD_SHARD_IDS needs DISCORD_SHARDS set to the total shard count/],
      [{ DISCORD_SHARDS: 'auto', DISCORD_SHARD_IDS: '0' }, /the same on every machine/],
      [
        { DISCORD_SHARDS: '4', DISCORD_SHARD_IDS: '2-4' },
        /names shard 4, but DISCORD_SHARDS=4 has shards 0 to 3/,
      ],
      [{ DISCORD_SHARDS: '4', DISCORD_SHARD_IDS: '3-1' }, /must name at least one shard/],
      [{ DISCORD_SHARDS: '4', DISCORD_SHARD_IDS: 'one' }, /must be shard ids and ranges, e\.g\. 0-4/],
    ];
    for (const [vars, message] of refused) {
      expect(() => loadDiscordConfig({ ...env, ...vars })).toThrow(DiscordConfigError);
      expect(() => loadDiscordConfig({ ...env, ...vars })).toThrow(message);
    }
  });
});

describe('the job journal under shards', () => {
  it("each shard journals and recovers its own work, so a restarted shard never answers another's", () => {
    const shard = (id: number) => ({ kind: 'shard', id, count: 2 }) as const;
    expect(journalPlatform({ kind: 'single' })).toBe('discord');
    expect(journalPlatform(shard(1))).toBe('discord/shard-1');
    expect(recoveredJournalPlatforms(shard(1))).toEqual(['discord/shard-1']);
    // Work a single process left open before the switch to shards is answered once, by shard 0.
    expect(recoveredJournalPlatforms(shard(0))).toEqual(['discord/shard-0', 'discord']);
    expect(recoveredJournalPlatforms({ kind: 'single' })).toEqual(['discord']);
  });
});
