import type { ChildProcess } from 'node:child_process';
import { REST, Routes, ShardingManager } from 'discord.js';
import { ConfigError } from '../../config.ts';
import type { Logger } from '../../log.ts';
import { EX_CONFIG, type Supervised, type SupervisorPlan } from '../process.ts';
import type { DiscordConfig } from './config.ts';
import { Scrubber } from './scrub.ts';
import type { DiscordSharding } from './shards.ts';
import { DISCORD_REDACT } from './start.ts';

/**
 * The longest a shard process may take from its start to READY: it opens the database, loads the model
 * (unless QUEUE_URL hands analysis to workers) and logs in.
 */
const SHARD_READY_TIMEOUT_MS = 180_000;
/**
 * Discord lets a bot identify one shard per 5 s (max_concurrency 1, what most bots have): discord.js's
 * ShardingManager waits this long between spawning two shards.
 */
const SPAWN_DELAY_MS = 5_500;
/** A shard process still running this long after SIGTERM (past its own grace period) is killed. */
const STOP_MARGIN_MS = 15_000;

export class ShardManagerError extends Error {
  override readonly name: string = 'ShardManagerError';
}

/** A shard process refused its configuration (exit 78): the manager exits 78 too, as a single process would. */
class ShardConfigError extends ConfigError {
  override readonly name: string = 'ShardConfigError';
}

/**
 * DISCORD_SHARDS above 1 or `auto`: this process runs discord.js's ShardingManager (process mode), which
 * spawns `entry` once per shard with the shard's id and count (discord.js's Client identifies with them,
 * so each process receives only its servers' events) and spawns again a shard process that dies.
 */
export function discordShardManager(config: DiscordConfig, entry: string): SupervisorPlan {
  const { sharding } = config;
  if (sharding.kind !== 'manager') throw new Error('internal: not a shard manager');
  return {
    kind: 'supervisor',
    redact: DISCORD_REDACT,
    start: (logger) => startShards(config, sharding, entry, logger.child({ adapter: 'discord' })),
  };
}

function startShards(
  config: DiscordConfig,
  { shards, ids }: Extract<DiscordSharding, { kind: 'manager' }>,
  entry: string,
  logger: Logger,
): Supervised {
  const scrub = new Scrubber(config.DISCORD_TOKEN);
  let manager: ShardingManager | undefined;
  let stopped = false;
  let lastExitCode: number | null = null;
  const ready = (async () => {
    const totalShards = shards === 'auto' ? await recommendedShards(config) : shards;
    if (stopped) return;
    manager = new ShardingManager(entry, {
      totalShards,
      // Spread over machines, each runs its part (the others run the rest with the same total).
      ...(ids ? { shardList: [...ids] } : {}),
      token: config.DISCORD_TOKEN,
      mode: 'process',
      respawn: true,
      // The same Node flags as this process (a shard is the same program).
      execArgv: process.execArgv,
    });
    manager.on('shardCreate', (shard) => {
      shard.on('spawn', (child) =>
        logger.info(
          { shard: shard.id, shards: totalShards, pid: (child as ChildProcess).pid },
          'discord shard process started',
        ),
      );
      shard.on('death', (child) => {
        const { exitCode, signalCode } = child as ChildProcess; // process mode: a child process
        lastExitCode = exitCode;
        if (manager?.respawn)
          logger.error(
            { shard: shard.id, exitCode, signal: signalCode },
            'discord shard process died: starting it again',
          );
      });
      shard.on('error', (error: unknown) =>
        logger.error({ shard: shard.id, err: scrub.error(error) }, 'discord shard process error'),
      );
    });
    logger.info(
      { shards: totalShards, requested: shards, here: ids ?? 'all' },
      'starting one discord gateway process per shard',
    );
    try {
      await manager.spawn({
        amount: totalShards,
        delay: SPAWN_DELAY_MS,
        timeout: SHARD_READY_TIMEOUT_MS,
      });
    } catch (error) {
      // Read before stopping: the processes stopped now die too.
      const refused = lastExitCode === EX_CONFIG;
      await stopAll(manager, config.bot.shutdownGraceMs);
      const message = `A Discord shard process did not start: ${describe(error)} (its own output above says why).`;
      throw refused ? new ShardConfigError(message) : new ShardManagerError(message);
    }
    logger.info({ shards: totalShards }, 'every discord shard ready');
  })();
  return {
    ready,
    async stop() {
      stopped = true;
      if (manager) await stopAll(manager, config.bot.shutdownGraceMs);
    },
  };
}

/** Discord's recommended shard count for this bot (GET /gateway/bot), through the configured REST base. */
async function recommendedShards(config: DiscordConfig): Promise<number> {
  const rest = new REST({
    version: '10',
    ...(config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {}),
  }).setToken(config.DISCORD_TOKEN);
  try {
    const answer = (await rest.get(Routes.gatewayBot())) as { shards?: unknown };
    const shards = Number(answer.shards);
    if (!Number.isInteger(shards) || shards < 1)
      throw new Error(`it answered shards=${String(answer.shards)}`);
    return shards;
  } catch (error) {
    throw new ShardManagerError(
      `DISCORD_SHARDS=auto: could not get the recommended shard count from Discord: ${describe(new Scrubber(config.DISCORD_TOKEN).error(error))}`,
    );
  }
}

/**
 * SIGTERM to every shard process (each finishes or abandons its work and tells its users, as a single
 * process does) and waits for them; no shard is started again from now on.
 */
async function stopAll(manager: ShardingManager, graceMs: number): Promise<void> {
  manager.respawn = false;
  await Promise.all(
    [...manager.shards.values()].map(async (shard) => {
      const child = shard.process;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), graceMs + STOP_MARGIN_MS);
      });
      if ((await Promise.race([exited, late])) === 'late') child.kill('SIGKILL');
      clearTimeout(timer);
      await exited;
    }),
  );
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  // discord.js rejects a shard's spawn with the child process itself when it dies before READY.
  if (error && typeof error === 'object' && 'exitCode' in error)
    return `it exited with code ${String((error as { exitCode: unknown }).exitCode)}`;
  return String(error);
}
