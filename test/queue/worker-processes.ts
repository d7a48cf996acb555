import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QueueSettings } from '../../src/queue/pg-boss/boss.ts';
import { envWithoutDiscord, spawnNode } from '../support/processes.ts';

/** Short timings so a killed worker's job moves on within seconds (pg-boss's heartbeat minimum is 10 s). */
export function testQueueSettings(url: string, retryLimit = 2): QueueSettings {
  return { url, retryLimit, heartbeatSeconds: 10, superviseSeconds: 1, expireSeconds: 120 };
}

/** One `annamalai worker` child process: its log lines (pino JSON on stderr) and a way to wait for one. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly logs: Record<string, unknown>[];
  waitForLog(message: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export function spawnWorker(settings: QueueSettings, env: Record<string, string> = {}): WorkerProcess {
  const child = spawn(process.execPath, ['src/cli/main.ts', 'worker'], {
    env: {
      ...process.env,
      MODEL_DIR: 'test/fixtures/models/tiny',
      LOG_LEVEL: 'info',
      QUEUE_URL: settings.url,
      DATABASE_URL: settings.url,
      QUEUE_RETRY_LIMIT: String(settings.retryLimit),
      QUEUE_HEARTBEAT_S: String(settings.heartbeatSeconds),
      QUEUE_SUPERVISE_S: String(settings.superviseSeconds),
      QUEUE_JOB_TIMEOUT_S: String(settings.expireSeconds),
      INFERENCE_WORKERS: '1',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const listeners = new Set<() => void>();
  let buffered = '';
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log record (a usage error line): kept in stderr only
      }
    }
    for (const listener of listeners) listener();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    logs,
    waitForLog(message, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = logs.find((l) => l.msg === message);
          if (!found) return;
          cleanup();
          resolve(found);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`worker never logged "${message}"; its stderr:\n${stderr}`));
        }, timeoutMs);
        const onExit = () => {
          cleanup();
          reject(new Error(`worker exited before logging "${message}"; its stderr:\n${stderr}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** An "ffmpeg" that never answers: a worker using it is stuck mid-job until it is killed. */
export function hangingFfmpeg(): { readonly path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'annamalai-hang-'));
  const path = join(dir, 'ffmpeg');
  writeFileSync(path, '#!/bin/sh\nexec sleep 30\n');
  chmodSync(path, 0o755);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An "ffmpeg" that waits `seconds` before decoding: a worker using it stays mid-job that long. */
export function slowFfmpeg(seconds: number): { readonly path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'annamalai-slow-'));
  const path = join(dir, 'ffmpeg');
  writeFileSync(path, `#!/bin/sh\nsleep ${seconds}\nexec ffmpeg "$@"\n`);
  chmodSync(path, 0o755);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The environment of a bot process that is a gateway of the workers on `url` (timings as the workers'). */
function gatewayEnv(url: string, modelDir: string, gatewayId: string): Record<string, string> {
  return {
    MODEL_DIR: modelDir,
    DATABASE_URL: url,
    QUEUE_URL: url,
    QUEUE_HEARTBEAT_S: '10',
    QUEUE_SUPERVISE_S: '1',
    GATEWAY_ID: gatewayId,
    WORK_CONCURRENCY: '16',
    WORK_QUEUE_MAX: '200',
    LOG_LEVEL: 'info',
  };
}

/** A started gateway process: its output, and a stop (by default a kill -9: nothing is finished on the way out). */
export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly out: { text: string };
  /** SIGKILL unless told otherwise (SIGTERM: the graceful stop, waited for). */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

async function gateway(
  started: ReturnType<typeof spawnNode>,
  ready: RegExp,
  waitFor: DiscordEndpoint['waitFor'],
): Promise<GatewayProcess> {
  const { child, out, exited } = started;
  const stop = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  try {
    // A shard manager starts its shard processes one after another: a minute.
    await waitFor(() => ready.test(out.text), 60_000, 'the gateway to connect');
  } catch (error) {
    await stop();
    throw new Error(`${String(error)}\n${out.text}`);
  }
  return { child, out, stop };
}

/** Enough of the fake Slack to point a Slack app process at it. */
interface SlackEndpoint {
  readonly apiUrl: string;
  readonly host: string;
  waitFor: DiscordEndpoint['waitFor'];
}

/**
 * The real `start:slack` entry point (Socket Mode) as a gateway of the workers on `url`, named `gatewayId`,
 * connected to the fake Slack; resolves once it is. `modelDir` may hold only the manifest.
 */
export function spawnSlackGateway(
  fake: SlackEndpoint,
  options: {
    readonly url: string;
    readonly modelDir: string;
    readonly gatewayId: string;
    readonly botToken: string;
    readonly appToken: string;
  },
): Promise<GatewayProcess> {
  const started = spawnNode('src/bots/slack/main.ts', {
    ...envWithoutDiscord(),
    ...gatewayEnv(options.url, options.modelDir, options.gatewayId),
    RATE_LIMIT_USER_PER_MINUTE: '1000',
    RATE_LIMIT_WORKSPACE_PER_MINUTE: '1000',
    SLACK_BOT_TOKEN: options.botToken,
    SLACK_APP_TOKEN: options.appToken,
    SLACK_API_URL: fake.apiUrl,
    SLACK_TEST_FILE_HOST: fake.host,
  });
  return gateway(started, /Slack app started/, fake.waitFor.bind(fake));
}

/** Enough of the fake Discord to point a bot process at it. */
interface DiscordEndpoint {
  readonly applicationId: string;
  readonly apiUrl: string;
  readonly cdnHost: string;
  waitFor<T>(probe: () => T | undefined | false, timeoutMs?: number, what?: string): Promise<T>;
}

/**
 * The real `start:discord` entry point as a gateway of the workers on `url` (QUEUE_URL and DATABASE_URL),
 * logged in to the fake Discord; resolves once it is ready. `modelDir` may hold only the manifest.
 */
export function spawnDiscordGateway(
  fake: DiscordEndpoint,
  options: {
    readonly url: string;
    readonly modelDir: string;
    readonly token: string;
    readonly gatewayId?: string;
    /** More settings (DISCORD_SHARDS, …). */
    readonly env?: Record<string, string>;
    /** The output line that says it is ready (a shard manager's differs); default a bot's. */
    readonly ready?: RegExp;
  },
): Promise<GatewayProcess> {
  const started = spawnNode('src/bots/discord/main.ts', {
    ...envWithoutDiscord(),
    ...gatewayEnv(options.url, options.modelDir, options.gatewayId ?? 'discord-gateway'),
    RATE_LIMIT_USER_PER_MINUTE: '1000',
    RATE_LIMIT_GUILD_PER_MINUTE: '1000',
    DISCORD_TOKEN: options.token,
    DISCORD_APPLICATION_ID: fake.applicationId,
    DISCORD_API_URL: fake.apiUrl,
    DISCORD_CDN_HOSTS: fake.cdnHost,
    ...options.env,
  });
  return gateway(started, options.ready ?? /discord bot ready/, fake.waitFor.bind(fake));
}
