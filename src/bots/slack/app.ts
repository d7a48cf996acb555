import type { Server } from 'node:http';
import { App, type Logger as BoltLogger, HTTPReceiver, SocketModeReceiver, type webApi } from '@slack/bolt';
import { EventDedupe } from '../shared/event-dedupe.ts';
import type { JobPipeline } from '../shared/job.ts';
import { RateLimiter, type RateRule } from '../shared/rate-limit.ts';
import { StorageGate } from '../shared/storage-gate.ts';
import { type ShutdownReport, WorkQueue } from '../shared/work-queue.ts';
import { tellWorkspaceOwner } from './admins.ts';
import { registerClipEvents } from './clip-events.ts';
import { analyzeClip } from './clip-job.ts';
import { registerCommand } from './command.ts';
import type { SlackConfig } from './config.ts';
import { connectToSlack } from './connect.ts';
import { type ClipRequest, SLACK_DIALECT, type SlackBotDeps, type SlackContext } from './context.ts';
import { registerHome } from './home.ts';
import { boltLogger, redactTokens } from './log.ts';
import { refuseFutureRequests } from './request-age.ts';

export { SHORTCUT_CALLBACK_ID } from './clip-events.ts';
export { COMMAND } from './command.ts';
export type { SlackBotDeps } from './context.ts';
export { PLATFORM } from './platform.ts';

import { PLATFORM } from './platform.ts';

export interface SlackBot {
  readonly app: App;
  /** HTTP mode: the server Bolt listens on. */
  readonly server: Server | undefined;
  start(): Promise<void>;
  /** Stop, step one: refuse new work (the queue's owner then shuts the queue). */
  beginStop(): void;
  /** Stop, last step: waits for the replies in flight and disconnects. */
  disconnect(): Promise<void>;
  /** Refuses new work, finishes or abandons work in flight (telling the waiting users), disconnects. */
  stop(graceMs?: number): Promise<ShutdownReport>;
  /** Resolves when no analysis is pending (tests and bench). */
  idle(): Promise<void>;
}

/**
 * The Slack adapter: a Bolt app whose listeners live in handler files of one concern each (clip-events.ts,
 * command.ts, home.ts, settings-command.ts); every clip runs through the shared job (shared/job.ts) with
 * the Slack surface (surface.ts).
 */
export function createSlackBot(deps: SlackBotDeps): SlackBot {
  const { config } = deps;
  const log = deps.logger.child({ adapter: 'slack' });
  const ownQueue = deps.queue === undefined;
  const queue =
    deps.queue ??
    new WorkQueue({ concurrency: config.bot.workConcurrency, maxQueued: config.bot.workQueueMax });
  const clientOptions: webApi.WebClientOptions = {
    ...(config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL } : {}),
    ...deps.clientOptions,
  };
  const logger: BoltLogger = boltLogger(log);
  let server: Server | undefined;
  const receiver = createReceiver(config, logger, clientOptions, deps.socketPingTimeoutMs);
  if (receiver instanceof HTTPReceiver) refuseFutureRequests(receiver, log);
  const app = new App({ token: config.SLACK_BOT_TOKEN, receiver, logger, clientOptions });
  const client = app.client;

  const pending = new Set<Promise<void>>();
  const dedupe = new EventDedupe({ ledger: deps.deliveries, platform: PLATFORM, log });
  const gate = new StorageGate({
    monitor: deps.storageHealth,
    log,
    platform: PLATFORM,
    tellAdmins: (text) => tellWorkspaceOwner(client, text),
  });
  let closing = false;
  const pipeline: JobPipeline = {
    analyzer: deps.analyzer,
    analysis: deps.analysis,
    queue,
    jobs: deps.jobs,
    log,
    redact: redactTokens,
    replies: { limits: deps.analyzer.limits, dialect: SLACK_DIALECT },
  };
  const ctx: SlackContext = {
    deps,
    client,
    log,
    pipeline,
    limiter: deps.limiter ?? new RateLimiter(slackRateRules(config)),
    closing: () => closing,
    startClip(req: ClipRequest) {
      const work = analyzeClip(ctx, req);
      const p = work.catch((error: unknown) =>
        log.error({ err: redactTokens(String(error)) }, 'analysis job failed unexpectedly'),
      );
      pending.add(p);
      void p.finally(() => pending.delete(p));
      return work;
    },
  };

  app.error(async (error) => {
    log.error({ err: redactTokens(String(error.message)) }, 'unhandled error in a Slack listener');
  });
  // Slack redelivers an event whose ack it did not see (a dropped socket, a slow HTTP answer, our restart):
  // handle each once, remembered in the database for a day (shared/event-dedupe.ts).
  app.use(async ({ body, next }) => {
    const eventId = (body as { event_id?: unknown }).event_id;
    if (typeof eventId === 'string' && !(await dedupe.first(eventId))) {
      log.debug({ eventId }, 'dropping a redelivered event');
      return;
    }
    await next();
  });
  registerClipEvents(app, ctx);
  registerCommand(app, ctx);
  registerHome(app, ctx);

  const bot: SlackBot = {
    app,
    get server() {
      return server;
    },
    async start() {
      await connectToSlack({
        token: config.SLACK_BOT_TOKEN,
        apiUrl: config.SLACK_API_URL,
        timeoutMs: config.SLACK_CONNECT_TIMEOUT_S * 1000,
        log,
        start: async () => {
          if (config.SLACK_MODE === 'http') server = (await app.start(config.SLACK_PORT)) as Server;
          else await app.start();
        },
      });
      log.info({ mode: config.SLACK_MODE }, 'Slack app started');
      gate.check();
    },
    beginStop() {
      closing = true;
      gate.stop();
      dedupe.stop();
    },
    async disconnect() {
      await Promise.allSettled([...pending]);
      if (receiver instanceof SocketModeReceiver) {
        // Bolt's stop() does not wait for the WebSocket close handshake; wait for it (bounded).
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          receiver.client.disconnect(),
          new Promise((resolve) => {
            timer = setTimeout(resolve, 3_000);
          }),
        ]);
        clearTimeout(timer);
      } else {
        await app.stop();
      }
      log.info('Slack app stopped');
    },
    async stop(graceMs = config.bot.shutdownGraceMs) {
      bot.beginStop();
      const report = ownQueue ? await queue.shutdown(graceMs) : { abandoned: 0, aborted: 0 };
      log.info(report, 'work queue stopped');
      await bot.disconnect();
      return report;
    },
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
  return bot;
}

/** Per person and per workspace, a minute's window each. */
export function slackRateRules(config: SlackConfig): Record<string, RateRule> {
  return {
    'slack-user': { limit: config.bot.rateLimitUserPerMinute, windowMs: 60_000 },
    'slack-workspace': { limit: config.RATE_LIMIT_WORKSPACE_PER_MINUTE, windowMs: 60_000 },
  };
}

function createReceiver(
  config: SlackConfig,
  logger: BoltLogger,
  clientOptions: webApi.WebClientOptions,
  pingTimeoutMs: number | undefined,
): SocketModeReceiver | HTTPReceiver {
  return config.SLACK_MODE === 'socket'
    ? new SocketModeReceiver({
        appToken: config.SLACK_APP_TOKEN ?? '',
        logger,
        ...(pingTimeoutMs !== undefined ? { clientPingTimeout: pingTimeoutMs } : {}),
        installerOptions: { clientOptions },
      })
    : new HTTPReceiver({
        signingSecret: config.SLACK_SIGNING_SECRET ?? '',
        endpoints: '/slack/events',
        logger,
        // Bolt verifies the v0 signature and refuses timestamps more than 5 minutes off.
        signatureVerification: true,
      });
}
