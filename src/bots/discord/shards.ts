import { z } from 'zod';
import { PLATFORM } from './messages.ts';

/**
 * What this Discord process is, from DISCORD_SHARDS and from what discord.js's ShardingManager hands the
 * processes it spawns (SHARDING_MANAGER, SHARDS, SHARD_COUNT; discord.js's Client reads the same variables
 * to identify with its shard):
 * - `single`: one process holds every server (no DISCORD_SHARDS, or 1), as without sharding;
 * - `manager`: spawns one shard process per shard and restarts those that die; it opens no database and
 *   loads no model;
 * - `shard`: one of them, receiving only the events of the servers whose id puts them on shard `id`.
 */
export type DiscordSharding =
  | { readonly kind: 'single' }
  | {
      readonly kind: 'manager';
      readonly shards: number | 'auto';
      /** The shards this machine runs (DISCORD_SHARD_IDS); absent, all of them. */
      readonly ids?: readonly number[];
    }
  | { readonly kind: 'shard'; readonly id: number; readonly count: number };

/** DISCORD_SHARDS: a positive whole number or `auto`; unset or empty: one process, no sharding. */
export const DISCORD_SHARDS_KEY = z.preprocess(
  (v) => (typeof v === 'string' ? v.trim() || undefined : v),
  z
    .string()
    .regex(
      /^(auto|[1-9]\d{0,5})$/,
      'must be a positive whole number of shards (e.g. 4) or auto (the count Discord recommends)',
    )
    .transform((v): number | 'auto' => (v === 'auto' ? 'auto' : Number(v)))
    .optional(),
);

/**
 * DISCORD_SHARD_IDS: the shards this machine runs when the shards are spread over machines, as ids and
 * ranges (`0-4`, `5,7,9`); unset: all of them. Checked against DISCORD_SHARDS by `checkShardIds`.
 */
export const DISCORD_SHARD_IDS_KEY = z.preprocess(
  (v) => (typeof v === 'string' ? v.replace(/\s+/g, '') || undefined : v),
  z
    .string()
    .regex(/^\d{1,6}(-\d{1,6})?(,\d{1,6}(-\d{1,6})?)*$/, 'must be shard ids and ranges, e.g. 0-4 or 5,7,9')
    .transform((v) => [
      ...new Set(
        v.split(',').flatMap((part) => {
          const [from, to = from] = part.split('-').map(Number) as [number, number?];
          return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
        }),
      ),
    ])
    .refine((ids) => ids.length > 0, 'must name at least one shard (a range runs low to high, e.g. 0-4)')
    .optional(),
);

/** Why DISCORD_SHARD_IDS does not fit DISCORD_SHARDS; undefined when it does. */
export function checkShardIds(
  shards: number | 'auto' | undefined,
  ids: readonly number[] | undefined,
): string | undefined {
  if (ids === undefined) return undefined;
  if (typeof shards !== 'number' || shards < 2)
    return 'needs DISCORD_SHARDS set to the total shard count (2 or more), the same on every machine';
  const outside = ids.filter((id) => id >= shards);
  if (outside.length > 0)
    return `names shard ${outside[0]}, but DISCORD_SHARDS=${shards} has shards 0 to ${shards - 1}`;
  return undefined;
}

const spawnedShard = z.object({
  SHARDING_MANAGER: z.literal('true'),
  SHARDS: z.coerce.number().int().min(0),
  SHARD_COUNT: z.coerce.number().int().positive(),
});

export function discordSharding(
  env: NodeJS.ProcessEnv,
  shards: number | 'auto' | undefined,
  ids?: readonly number[],
): DiscordSharding {
  const spawned = spawnedShard.safeParse(env);
  if (spawned.success && spawned.data.SHARDS < spawned.data.SHARD_COUNT)
    return { kind: 'shard', id: spawned.data.SHARDS, count: spawned.data.SHARD_COUNT };
  if (shards === 'auto' || (shards !== undefined && shards > 1))
    return ids ? { kind: 'manager', shards, ids } : { kind: 'manager', shards };
  return { kind: 'single' };
}

/**
 * The job journal's key for the work this process accepts. A restarted process answers the work its
 * predecessor left open (restart-recovery.ts); with shards, only its own shard's predecessor is gone, and
 * the other shards' work still in flight must not be answered a second time, so each shard has its key.
 */
export function journalPlatform(sharding: DiscordSharding): string {
  return sharding.kind === 'shard' ? `${PLATFORM}/shard-${sharding.id}` : PLATFORM;
}

/**
 * The keys whose open work this process answers at start: its own; shard 0 also takes the unsharded key,
 * so that work left by a single process is answered once after switching to shards.
 */
export function recoveredJournalPlatforms(sharding: DiscordSharding): string[] {
  const own = journalPlatform(sharding);
  return sharding.kind === 'shard' && sharding.id === 0 ? [own, PLATFORM] : [own];
}
