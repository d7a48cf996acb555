import type { Server } from 'node:http';
import { App, type Logger as BoltLogger, HTTPReceiver, SocketModeReceiver, type webApi } from '@slack/bolt';
import { type AnalyzerDeps, analyzeRecording } from '../../core/analyze.ts';
import { ERROR_CODES } from '../../core/errors.ts';
import type {
  AnalysisStore,
  Clock,
  DeliveryLedger,
  DigestStore,
  JobJournal,
  SettingsStore,
  StorageMonitor,
} from '../../core/ports.ts';
import type { Logger } from '../../log.ts';
import { DownloadError } from '../shared/download.ts';
import { EventDedupe } from '../shared/event-dedupe.ts';
import { type JobTicket, openJob } from '../shared/job-ticket.ts';
import { notSaved, savedId } from '../shared/not-saved.ts';
import { humanWait, RateLimiter } from '../shared/rate-limit.ts';
import { STORAGE_UNAVAILABLE_TEXT } from '../shared/refusals.ts';
import type { ReplyRetryPolicy } from '../shared/reply-retry.ts';
import { StorageGate } from '../shared/storage-gate.ts';
import { QueueFullError, type ShutdownReport, ShuttingDownError, WorkQueue } from '../shared/work-queue.ts';
import { tellWorkspaceOwner } from './admins.ts';
import {
  analyzingMessage,
  errorMessage,
  errorText,
  forgetConfirmMessage,
  HELP_TEXT,
  historyMessage,
  homeView,
  type RenderedMessage,
  resultMessage,
} from './blocks.ts';
import { uploadChart } from './chart-upload.ts';
import { type SlackConfig, slackFileHosts } from './config.ts';
import { connectToSlack } from './connect.ts';
import { downloadSlackFile } from './download.ts';
import { audioFiles, fileName, type SlackFile, type SlackMessage } from './files.ts';
import { finishReply, type SlackReplyHandle } from './final-reply.ts';
import { boltLogger, redactTokens } from './log.ts';
import { refuseFutureRequests } from './request-age.ts';
import { settingsCommands } from './settings-command.ts';

export { PLATFORM } from './platform.ts';

import { PLATFORM } from './platform.ts';
export const COMMAND = '/emotion';
export const SHORTCUT_CALLBACK_ID = 'analyze_emotions';
/** How far back `/emotion` looks for the most recent audio in a channel. */
const HISTORY_SCAN = 50;
const HISTORY_SHOWN = 10;
const PROGRESS_EVERY_MS = 5_000;

type WebClient = webApi.WebClient;
type WebClientOptions = webApi.WebClientOptions;

export interface SlackBotDeps {
  readonly config: SlackConfig;
  /** The core use case's dependencies; the store is required (bots always store, history needs it). */
  readonly analyzer: AnalyzerDeps & { readonly store: AnalysisStore };
  readonly settings: SettingsStore;
  readonly logger: Logger;
  /** The process-wide work queue shared with other adapters; the bot makes (and owns) one when absent. */
  readonly queue?: WorkQueue;
  readonly limiter?: RateLimiter;
  /** Extra Web API client options (tests shorten retry back-off). */
  readonly clientOptions?: Partial<WebClientOptions>;
  /** Socket Mode ping timeout, also the reconnect delay step (ms); the library's 5000 when absent. */
  readonly socketPingTimeoutMs?: number;
  /** Draw and upload the timeline chart (default true). */
  readonly chart?: boolean;
  /** The mood digest's settings and preview; absent: `/emotion digest …` says it is unavailable. */
  readonly digest?: { readonly store: DigestStore; readonly clock: Clock };
  /** Accepted work, recorded before "Analyzing…" so a restart can answer it; absent: not recorded. */
  readonly jobs?: JobJournal;
  /** Handled event ids kept across restarts; absent: remembered in memory only. */
  readonly deliveries?: DeliveryLedger;
  /** Storage health: new work is refused while the database is lost; absent: always accepted. */
  readonly storageHealth?: StorageMonitor;
  /** Final-reply retry timings (tests shorten them). */
  readonly replyRetry?: ReplyRetryPolicy;
}

export interface SlackBot {
  readonly app: App;
  /** HTTP mode: the server Bolt listens on. */
  readonly server: Server | undefined;
  start(): Promise<void>;
  /** Refuses new work, finishes or abandons work in flight (telling the waiting users), disconnects. */
  stop(graceMs?: number): Promise<ShutdownReport>;
  /** Resolves when no analysis is pending (tests and bench). */
  idle(): Promise<void>;
}

/** Where an analysis was asked for and whom to tell about problems. */
interface ClipRequest {
  readonly teamId: string;
  readonly channelId: string;
  readonly message: SlackMessage;
  readonly file: SlackFile;
  /** Who asked: the clip's author for auto-analysis, else the one who used the shortcut or command. */
  readonly requesterId: string;
  /** Auto-analysis stays quiet about opt-outs; explicit requests get an answer. */
  readonly explicit: boolean;
  /** A reply only the requester sees. */
  readonly notify: (text: string) => Promise<void>;
}

export function createSlackBot(deps: SlackBotDeps): SlackBot {
  const { config, analyzer, settings } = deps;
  const log = deps.logger.child({ adapter: 'slack' });
  const fileHosts = slackFileHosts(config);
  const ownQueue = deps.queue === undefined;
  const queue =
    deps.queue ?? new WorkQueue({ concurrency: config.WORK_CONCURRENCY, maxQueued: config.WORK_QUEUE_MAX });
  const limiter =
    deps.limiter ??
    new RateLimiter({
      'slack-user': { limit: config.RATE_LIMIT_USER_PER_MINUTE, windowMs: 60_000 },
      'slack-workspace': { limit: config.RATE_LIMIT_WORKSPACE_PER_MINUTE, windowMs: 60_000 },
    });
  const limits = {
    maxMb: Number((analyzer.limits.maxBytes / (1024 * 1024)).toPrecision(2)),
    maxMinutes: Math.round(analyzer.limits.maxDurationSeconds / 60),
  };
  const clientOptions: WebClientOptions = {
    ...(config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL } : {}),
    ...deps.clientOptions,
  };
  const logger: BoltLogger = boltLogger(log);

  let server: Server | undefined;
  const receiver =
    config.SLACK_MODE === 'socket'
      ? new SocketModeReceiver({
          appToken: config.SLACK_APP_TOKEN ?? '',
          logger,
          ...(deps.socketPingTimeoutMs !== undefined ? { clientPingTimeout: deps.socketPingTimeoutMs } : {}),
          installerOptions: { clientOptions },
        })
      : new HTTPReceiver({
          signingSecret: config.SLACK_SIGNING_SECRET ?? '',
          endpoints: '/slack/events',
          logger,
          // Bolt verifies the v0 signature and refuses timestamps more than 5 minutes off.
          signatureVerification: true,
        });
  if (receiver instanceof HTTPReceiver) refuseFutureRequests(receiver, log);
  const app = new App({ token: config.SLACK_BOT_TOKEN, receiver, logger, clientOptions });
  const client: WebClient = app.client;

  const pending = new Set<Promise<void>>();
  const inFlight = new Set<string>();
  const dedupe = new EventDedupe({ ledger: deps.deliveries, platform: PLATFORM, log });
  const gate = new StorageGate({
    monitor: deps.storageHealth,
    log,
    platform: PLATFORM,
    tellAdmins: (text) => tellWorkspaceOwner(client, text),
  });
  let closing = false;

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

  function track(work: Promise<void>): void {
    const p = work.catch((error: unknown) =>
      log.error({ err: redactTokens(String(error)) }, 'analysis job failed unexpectedly'),
    );
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }

  async function postEphemeral(
    channel: string,
    user: string,
    text: string,
    threadTs?: string,
  ): Promise<void> {
    try {
      await client.chat.postEphemeral({ channel, user, text, ...(threadTs ? { thread_ts: threadTs } : {}) });
    } catch (error) {
      log.warn({ err: redactTokens(String(error)), channel }, 'could not send an ephemeral reply');
    }
  }

  async function update(channel: string, ts: string, message: RenderedMessage): Promise<void> {
    await client.chat.update({ channel, ts, text: message.text, blocks: message.blocks });
  }

  /** The final message, by the shared retry/replace policy (final-reply.ts). */
  async function finish(where: SlackReplyHandle, message: RenderedMessage): Promise<void> {
    await finishReply(client, log, where, message, deps.replyRetry);
  }

  /** Checks and queues one clip; resolves when its reply is final. */
  async function analyzeClip(req: ClipRequest): Promise<void> {
    const { file, message, channelId, teamId } = req;
    const speakerId = file.user ?? message.user ?? req.requesterId;
    const key = `${teamId}:${channelId}:${message.ts}:${file.id}`;
    if (closing) {
      if (req.explicit) await req.notify('I am restarting right now: please try again in a minute.');
      return;
    }
    if (inFlight.has(key)) {
      if (req.explicit)
        await req.notify('I am already analysing that clip: the result will appear in its thread.');
      return;
    }
    inFlight.add(key);
    try {
      await checkAndRun(req, speakerId);
    } finally {
      inFlight.delete(key);
    }
  }

  async function checkAndRun(asked: ClipRequest, speakerId: string): Promise<void> {
    const { message, channelId, teamId } = asked;
    if (await settings.isOptedOut(PLATFORM, speakerId)) {
      log.info({ channelId }, 'clip skipped: its author opted out');
      if (asked.explicit)
        await asked.notify(
          speakerId === asked.requesterId
            ? 'You have opted out, so I do not analyse your voice. `/emotion optin` turns analysis back on.'
            : `<@${speakerId}> has opted out of emotion analysis, so I won't analyse their recordings.`,
        );
      return;
    }
    let file: SlackFile;
    try {
      file = await resolveFile(asked.file);
    } catch (error) {
      log.warn({ err: redactTokens(String(error)) }, 'files.info failed');
      await asked.notify('I couldn’t read that file’s details from Slack. Please try again.');
      return;
    }
    const req: ClipRequest = { ...asked, file };
    if (file.size !== undefined && file.size > analyzer.limits.maxBytes) {
      await req.notify(errorText('audio.too_large', ERROR_CODES['audio.too_large'], limits));
      return;
    }
    if (file.size === 0) {
      await req.notify(ERROR_CODES['audio.empty']);
      return;
    }
    const rate = limiter.take([
      { scope: 'slack-user', key: req.requesterId },
      { scope: 'slack-workspace', key: teamId },
    ]);
    if (!rate.ok) {
      await req.notify(
        rate.scope === 'slack-user'
          ? `You have asked for a lot of analyses just now: please try again ${humanWait(rate.retryAfterMs)}.`
          : `This workspace has asked for a lot of analyses just now: please try again ${humanWait(rate.retryAfterMs)}.`,
      );
      return;
    }
    if (!queue.hasRoom) {
      await req.notify(ERROR_CODES['inference.overloaded']);
      return;
    }
    const refused = gate.refusal();
    if (refused) {
      await req.notify(refused);
      return;
    }

    const name = fileName(file);
    const threadTs = message.thread_ts ?? message.ts;
    const where: SlackReplyHandle = { channel: channelId, threadTs };
    const ticket = await openJob(
      deps.jobs,
      { platform: PLATFORM, userId: speakerId, reply: where },
      log,
    ).catch(() => undefined);
    if (!ticket) {
      await req.notify(STORAGE_UNAVAILABLE_TEXT);
      return;
    }
    try {
      await postAndRun(req, ticket, { speakerId, name, threadTs });
    } finally {
      await ticket.close();
    }
  }

  async function postAndRun(
    req: ClipRequest,
    ticket: JobTicket,
    clip: { speakerId: string; name: string; threadTs: string },
  ): Promise<void> {
    const { channelId } = req;
    const { speakerId, name, threadTs } = clip;
    let replyTs: string;
    try {
      const analyzing = analyzingMessage(name);
      const posted = await client.chat.postMessage({
        channel: channelId,
        thread_ts: threadTs,
        text: analyzing.text,
        blocks: analyzing.blocks,
      });
      if (!posted.ts) throw new Error('chat.postMessage returned no ts');
      replyTs = posted.ts;
      await ticket.reply({ channel: channelId, threadTs, ts: replyTs });
    } catch (error) {
      log.warn({ err: redactTokens(String(error)), channelId }, 'could not post in the thread');
      await req.notify(
        'I cannot post in this conversation. Invite me to the channel (`/invite @Annamalai`) and try again.',
      );
      return;
    }

    try {
      await queue.push((signal) => runAnalysis(req, { speakerId, name, replyTs, threadTs, ticket }, signal));
    } catch (error) {
      const text =
        error instanceof ShuttingDownError
          ? 'I was restarted before I could analyse this clip. Please ask again in a minute (message shortcut *Analyze emotions*).'
          : error instanceof QueueFullError
            ? ERROR_CODES['inference.overloaded']
            : 'Something went wrong while analysing this clip.';
      if (!(error instanceof ShuttingDownError || error instanceof QueueFullError))
        log.error({ err: redactTokens(String(error)) }, 'analysis failed unexpectedly');
      await finish({ channel: channelId, threadTs, ts: replyTs }, errorMessage(text));
    }
  }

  async function resolveFile(file: SlackFile): Promise<SlackFile> {
    if (file.url_private && file.file_access !== 'check_file_info') return file;
    const info = await client.files.info({ file: file.id });
    return { ...file, ...(info.file as SlackFile | undefined) };
  }

  async function runAnalysis(
    req: ClipRequest,
    reply: { speakerId: string; name: string; replyTs: string; threadTs: string; ticket: JobTicket },
    signal: AbortSignal,
  ): Promise<void> {
    const { channelId, teamId } = req;
    const where = { channel: channelId, threadTs: reply.threadTs, ts: reply.replyTs };
    const started = performance.now();
    const { file } = req;
    let bytes: Uint8Array;
    try {
      const url = file.url_private_download ?? file.url_private;
      if (!url) throw new DownloadError('http', 'the file has no url_private');
      bytes = await downloadSlackFile({
        url,
        declaredSize: file.size,
        maxBytes: analyzer.limits.maxBytes,
        botToken: config.SLACK_BOT_TOKEN,
        fileHosts,
        timeoutMs: config.DOWNLOAD_TIMEOUT_S * 1000,
        signal,
      });
    } catch (error) {
      const kind = error instanceof DownloadError ? error.kind : 'network';
      log.warn({ kind, err: redactTokens(String(error)) }, 'download failed');
      const text =
        kind === 'too_large'
          ? errorText('audio.too_large', ERROR_CODES['audio.too_large'], limits)
          : kind === 'empty'
            ? ERROR_CODES['audio.empty']
            : kind === 'aborted'
              ? errorText('aborted', ERROR_CODES.aborted, limits)
              : 'I couldn’t download the file from Slack. Please try again.';
      await finish(where, errorMessage(text));
      return;
    }

    let lastProgress = Date.now();
    // One progress edit at a time, awaited before the final one: a late (retried, rate-limited) progress edit
    // must never land after the result and overwrite it.
    let progressEdit: Promise<void> | undefined;
    const result = await analyzeRecording(
      analyzer,
      { bytes, name: reply.name, ...(file.mimetype ? { contentType: file.mimetype } : {}) },
      {
        platform: PLATFORM,
        workspaceId: teamId,
        channelId,
        userId: reply.speakerId,
        sourceId: file.id,
        sourceName: reply.name,
      },
      {
        signal,
        onProgress: (p) => {
          if (p.stage !== 'classifying' || progressEdit || Date.now() - lastProgress < PROGRESS_EVERY_MS)
            return;
          lastProgress = Date.now();
          const done = Math.round((100 * p.done) / p.total);
          progressEdit = update(channelId, reply.replyTs, analyzingMessage(reply.name, `${done} %`))
            .catch(() => undefined)
            .finally(() => {
              progressEdit = undefined;
            });
        },
      },
    );
    await progressEdit;
    if (result.status === 'failed') {
      log.info({ code: result.error.code }, 'analysis failed');
      await finish(where, errorMessage(errorText(result.error.code, result.error.userMessage, limits)));
      return;
    }
    const stored = savedId(result);
    if (stored) await reply.ticket.analysed(stored);
    const model = analyzer.classifier.info;
    await finish(
      where,
      resultMessage({
        durationS: result.durationS,
        segments: result.segments,
        summary: result.summary,
        model,
        sourceName: reply.name,
        speakerId: reply.speakerId,
        notSaved: notSaved(result),
      }),
    );
    log.info(
      { durationS: result.durationS, ms: Math.round(performance.now() - started) },
      'analysis replied',
    );
    if (deps.chart === false) return;
    await uploadChart(client, log, where, {
      segments: result.segments,
      labels: model.trainedLabels,
      name: reply.name,
    });
  }

  const { digestPreview, settingsCommand } = settingsCommands({
    client,
    analyzer,
    settings,
    digest: deps.digest,
    log,
  });

  function start(req: ClipRequest): Promise<void> {
    const work = analyzeClip(req);
    track(work);
    return work;
  }

  // ── Clips posted in a DM or an auto-analysis channel ────────────────────────────────────────────────
  app.event('message', async ({ event, body }) => {
    const message = event as unknown as SlackMessage;
    if (
      message.subtype !== undefined &&
      message.subtype !== 'file_share' &&
      message.subtype !== 'thread_broadcast'
    )
      return;
    if (message.bot_id || !message.user || !message.channel) return;
    const files = audioFiles(message);
    if (files.length === 0) return;
    const teamId = (body as { team_id?: string }).team_id ?? '';
    const channelId = message.channel;
    const dm = message.channel_type === 'im';
    if (!dm && !(await settings.isAutoAnalysisChannel(PLATFORM, teamId, channelId))) return;
    const user = message.user;
    for (const file of files.slice(0, 3))
      void start({
        teamId,
        channelId,
        message,
        file,
        requesterId: user,
        explicit: false,
        notify: (text) => postEphemeral(channelId, user, text, message.thread_ts ?? message.ts),
      });
  });

  // ── Message shortcut "Analyze emotions" ─────────────────────────────────────────────────────────────
  app.shortcut(SHORTCUT_CALLBACK_ID, async ({ shortcut, ack, respond }) => {
    await ack();
    const s = shortcut as unknown as {
      team?: { id: string };
      user: { id: string };
      channel?: { id: string };
      message?: SlackMessage;
    };
    const notify = async (text: string) => {
      await respond({ response_type: 'ephemeral', replace_original: false, text }).catch((e: unknown) =>
        log.warn({ err: redactTokens(String(e)) }, 'could not respond to the shortcut'),
      );
    };
    const message = s.message;
    const channelId = s.channel?.id;
    if (!message || !channelId) return notify('I could not see that message.');
    const files = audioFiles(message);
    const file = files[0];
    if (!file) return notify('That message has no audio file or clip for me to analyse.');
    void start({
      teamId: s.team?.id ?? '',
      channelId,
      message,
      file,
      requesterId: s.user.id,
      explicit: true,
      notify,
    });
  });

  // ── /emotion [help|history|optout|optin|forget|settings …] ─────────────────────────────────────────
  app.command(COMMAND, async ({ command, ack, respond }) => {
    const [sub = '', ...args] = command.text.trim().split(/\s+/).filter(Boolean);
    const user = command.user_id;
    const teamId = command.team_id;
    const ephemeral = (text: string) => ack({ response_type: 'ephemeral', text });
    switch (sub.toLowerCase()) {
      case 'help':
        return ephemeral(HELP_TEXT);
      case 'history': {
        const rows = await analyzer.store.userHistory(PLATFORM, user, HISTORY_SHOWN);
        const view = historyMessage(rows);
        return ack({ response_type: 'ephemeral', text: view.text, blocks: view.blocks });
      }
      case 'optout': {
        const changed = await settings.setOptedOut(PLATFORM, user, true);
        return ephemeral(
          changed
            ? 'Done: I will not analyse recordings of your voice. Results already stored are kept until you use `/emotion forget`.'
            : 'You had already opted out.',
        );
      }
      case 'optin': {
        const changed = await settings.setOptedOut(PLATFORM, user, false);
        return ephemeral(changed ? 'Done: your clips can be analysed again.' : 'You had not opted out.');
      }
      case 'forget': {
        const view = forgetConfirmMessage();
        return ack({ response_type: 'ephemeral', text: view.text, blocks: view.blocks });
      }
      case 'settings': {
        await ack();
        const text = await settingsCommand(teamId, user, command.channel_id, args);
        await respond({ response_type: 'ephemeral', text }).catch((e: unknown) =>
          log.warn({ err: redactTokens(String(e)) }, 'could not respond to /emotion settings'),
        );
        return;
      }
      case 'digest': {
        await ack();
        const text =
          (args[0] ?? '').toLowerCase() === 'now'
            ? await digestPreview(teamId, command.channel_id)
            : 'Use `/emotion digest now` for a preview of this channel’s mood digest (only you see it).';
        await respond({ response_type: 'ephemeral', text }).catch((e: unknown) =>
          log.warn({ err: redactTokens(String(e)) }, 'could not respond to /emotion digest'),
        );
        return;
      }
      case '':
        await ack();
        await analyzeLatestInChannel(teamId, command.channel_id, user, (text) =>
          respond({ response_type: 'ephemeral', text }).then(
            () => undefined,
            (e: unknown) => log.warn({ err: redactTokens(String(e)) }, 'could not respond to /emotion'),
          ),
        );
        return;
      default:
        return ephemeral(`I don't know \`${COMMAND} ${sub.slice(0, 30)}\`.\n\n${HELP_TEXT}`);
    }
  });

  async function analyzeLatestInChannel(
    teamId: string,
    channelId: string,
    user: string,
    notify: (text: string) => Promise<void>,
  ): Promise<void> {
    let messages: SlackMessage[];
    try {
      const history = await client.conversations.history({ channel: channelId, limit: HISTORY_SCAN });
      messages = (history.messages ?? []) as unknown as SlackMessage[];
    } catch (error) {
      log.info({ err: redactTokens(String(error)) }, 'conversations.history failed');
      return notify(
        'I cannot read this conversation. Invite me to the channel (`/invite @Annamalai`) and try again.',
      );
    }
    const message = messages.find((m) => !m.bot_id && audioFiles(m).length > 0);
    const file = message ? audioFiles(message)[0] : undefined;
    if (!message || !file)
      return notify(`I found no audio in the last ${HISTORY_SCAN} messages of this channel.`);
    void start({ teamId, channelId, message, file, requesterId: user, explicit: true, notify });
  }

  // ── Forget (confirmation buttons) and the App Home's privacy buttons ───────────────────────────────
  app.action('forget_confirm', async ({ ack, body, respond }) => {
    await ack();
    const n = await analyzer.store.deleteUser(PLATFORM, body.user.id);
    await respond({
      replace_original: true,
      text: n
        ? `Deleted ${n} stored result${n === 1 ? '' : 's'} of your voice.`
        : 'No results of your voice were stored.',
    }).catch((e: unknown) => log.warn({ err: redactTokens(String(e)) }, 'could not confirm forget'));
  });
  app.action('forget_cancel', async ({ ack, respond }) => {
    await ack();
    await respond({ replace_original: true, text: 'Nothing was deleted.' }).catch(() => undefined);
  });
  app.action('home_optout', async ({ ack, body }) => {
    await ack();
    await settings.setOptedOut(PLATFORM, body.user.id, true);
    await publishHome(body.user.id, 'You have opted out.');
  });
  app.action('home_optin', async ({ ack, body }) => {
    await ack();
    await settings.setOptedOut(PLATFORM, body.user.id, false);
    await publishHome(body.user.id, 'You have opted in again.');
  });
  app.action('home_forget', async ({ ack, body }) => {
    await ack();
    const n = await analyzer.store.deleteUser(PLATFORM, body.user.id);
    await publishHome(body.user.id, `Deleted ${n} stored result${n === 1 ? '' : 's'}.`);
  });

  app.event('app_home_opened', async ({ event }) => {
    if (event.tab !== 'home') return;
    await publishHome(event.user);
  });

  async function publishHome(user: string, status?: string): Promise<void> {
    const [optedOut, history] = await Promise.all([
      settings.isOptedOut(PLATFORM, user),
      analyzer.store.userHistory(PLATFORM, user, HISTORY_SHOWN),
    ]);
    try {
      await client.views.publish({ user_id: user, view: homeView({ optedOut, history, status }) });
    } catch (error) {
      log.warn({ err: redactTokens(String(error)) }, 'views.publish failed');
    }
  }

  return {
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
    async stop(graceMs = config.SHUTDOWN_GRACE_S * 1000) {
      closing = true;
      gate.stop();
      dedupe.stop();
      const report = ownQueue ? await queue.shutdown(graceMs) : { abandoned: 0, aborted: 0 };
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
      log.info(report, 'Slack app stopped');
      return report;
    },
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
