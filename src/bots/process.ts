import { ConfigError, loadConfig } from '../config.ts';
import { createLogger, type Logger } from '../log.ts';
import { type BotRuntime, openBotRuntime, type RunningBot } from './runtime.ts';
import type { BotSettings } from './settings.ts';
import type { RateRule } from './shared/rate-limit.ts';

/** Exit code for a configuration the process cannot start with (sysexits EX_CONFIG). */
export const EX_CONFIG = 78;

export interface BotPlan {
  /** The settings every bot shares: the one work queue's size, the grace period at shutdown. */
  readonly settings: BotSettings;
  /** Every platform's rate-limit rules, for the one limiter of the process. */
  readonly rateRules: Readonly<Record<string, RateRule>>;
  /** Extra logger redaction paths for the platforms' secrets. */
  readonly redact: readonly string[];
  /** Started in order and stopped in that order (Discord first: its voice sessions still need the queue). */
  readonly start: readonly ((runtime: BotRuntime, logger: Logger) => Promise<RunningBot>)[];
}

/**
 * A process that runs no bot itself but supervises processes that do (Discord's shard manager): it opens no
 * database and loads no model.
 */
export interface SupervisorPlan {
  readonly kind: 'supervisor';
  readonly redact: readonly string[];
  /** Starts the supervised processes; `stop` may be called before they are all `ready`. */
  readonly start: (logger: Logger) => Supervised;
}

export interface Supervised {
  /** Resolves once every process runs; rejects (and they are stopped) when one never does. */
  readonly ready: Promise<void>;
  /** Stops them, each finishing or abandoning its work as on SIGTERM. */
  stop(): Promise<void>;
}

/**
 * Runs bots as one process: validates the configuration (refusing to start with a message naming what is
 * missing), opens one runtime for all of them, and on SIGTERM/SIGINT stops each (finishing or abandoning
 * work in flight and telling users) before exiting 0.
 */
export async function runBots(plan: (env: NodeJS.ProcessEnv) => BotPlan | SupervisorPlan): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  let bots: BotPlan | SupervisorPlan;
  try {
    config = loadConfig();
    bots = plan(process.env);
  } catch (error) {
    return exit(error instanceof ConfigError ? error.message : String(error), EX_CONFIG);
  }
  const logger = createLogger(config.LOG_LEVEL).child(
    {},
    { redact: { paths: [...bots.redact], censor: '[redacted]' } },
  );
  if ('kind' in bots) return supervise(bots, logger);
  let runtime: BotRuntime;
  try {
    const { workConcurrency, workQueueMax } = bots.settings;
    runtime = await openBotRuntime(
      config,
      logger,
      { concurrency: workConcurrency, maxQueued: workQueueMax },
      bots.rateRules,
    );
  } catch (error) {
    if (error instanceof ConfigError) return exit(error.message, EX_CONFIG);
    throw error;
  }
  const running: RunningBot[] = [];
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing or abandoning work in flight');
    try {
      for (const bot of running) await bot.beginStop();
      // The one place the shared work queue is shut.
      logger.info(await runtime.queue.shutdown(bots.settings.shutdownGraceMs), 'work queue stopped');
      for (const bot of running) await bot.disconnect();
    } finally {
      await runtime.close();
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  try {
    for (const start of bots.start) running.push(await start(runtime, logger));
  } catch (error) {
    for (const bot of running) await bot.beginStop().catch(() => undefined);
    await runtime.queue.shutdown(0);
    for (const bot of running) await bot.disconnect().catch(() => undefined);
    await runtime.close();
    return exit(error instanceof Error ? error.message : String(error), 1);
  }
}

/** Starts the supervised processes; SIGTERM/SIGINT stop them (each finishes its work) and then this one. */
async function supervise(plan: SupervisorPlan, logger: Logger): Promise<void> {
  const running = plan.start(logger);
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: stopping the processes started here');
    await running.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  try {
    await running.ready;
  } catch (error) {
    if (stopping) return;
    if (error instanceof ConfigError) return exit(error.message, EX_CONFIG);
    return exit(error instanceof Error ? error.message : String(error), 1);
  }
}

function exit(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}
