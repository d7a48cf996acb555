import {
  ActionRowBuilder,
  type Attachment,
  ButtonBuilder,
  type ButtonInteraction,
  ButtonStyle,
  type ChatInputCommandInteraction,
  Client,
  type ClientOptions,
  Events,
  GatewayIntentBits,
  type Interaction,
  type Message,
  type MessageContextMenuCommandInteraction,
  MessageFlags,
  Partials,
  type RepliableInteraction,
} from 'discord.js';
import { CONTEXT_MENU_NAME } from '../../../commands/emotion.ts';
import { type AnalyzerDeps, analyzeRecording, type Progress } from '../../core/analyze.ts';
import type {
  AnalysisStore,
  Clock,
  DigestStore,
  JobJournal,
  SettingsStore,
  StorageMonitor,
} from '../../core/ports.ts';
import type { AnalysisContext } from '../../core/records.ts';
import type { Logger } from '../../log.ts';
import { renderTimelineChart } from '../shared/chart.ts';
import { boundedDownload, DownloadError } from '../shared/download.ts';
import { openJob } from '../shared/job-ticket.ts';
import { savedId } from '../shared/not-saved.ts';
import { humanWait, RateLimiter } from '../shared/rate-limit.ts';
import { STORAGE_UNAVAILABLE_TEXT } from '../shared/refusals.ts';
import type { ReplyRetryPolicy } from '../shared/reply-retry.ts';
import { StorageGate } from '../shared/storage-gate.ts';
import type { OkResult } from '../shared/text.ts';
import { QueueFullError, type ShutdownReport, ShuttingDownError, WorkQueue } from '../shared/work-queue.ts';
import type { DiscordConfig } from './config.ts';
import { MESSAGES, PLATFORM } from './messages.ts';
import { tellOwner } from './owner.ts';
import { type JobOutcome, type ReplyPayload, replyPayload } from './payload.ts';
import { errorText, historyText } from './render.ts';
import { Scrubber } from './scrub.ts';
import { digestNow, settingsAnswer } from './settings.ts';
import {
  INTERACTION_TOKEN_MS,
  interactionSurface,
  messageSurface,
  type Surface,
  TOKEN_MARGIN_MS,
} from './surfaces.ts';

const PROGRESS_EVERY_MS = 1500;

export interface DiscordBotDeps {
  readonly config: DiscordConfig;
  /** The core use case's dependencies; its store is where results go. */
  readonly analyzer: AnalyzerDeps;
  readonly store: AnalysisStore;
  readonly settings: SettingsStore;
  readonly logger: Logger;
  /** Shared with the other adapters when they run in the same process. */
  readonly queue?: WorkQueue;
  readonly limiter?: RateLimiter;
  /** Extra discord.js client options (tests: REST retry timings). */
  readonly clientOptions?: Partial<ClientOptions>;
  /** Voice-channel listening (src/bots/discord/voice.ts); absent: /emotion listen says it is unavailable. */
  readonly voice?: VoiceCommands;
  /** The mood digest's settings and preview; absent: the digest options say it is unavailable. */
  readonly digest?: { readonly store: DigestStore; readonly clock: Clock };
  /** Accepted work, recorded before "Listening…" so a restart can answer it; absent: not recorded. */
  readonly jobs?: JobJournal;
  /** Storage health: new work is refused while the database is lost; absent: always accepted. */
  readonly storageHealth?: StorageMonitor;
  /** Final-reply retry timings (tests shorten them). */
  readonly replyRetry?: ReplyRetryPolicy;
}

export interface VoiceCommands {
  listen(interaction: ChatInputCommandInteraction, bot: DiscordBot): Promise<void>;
  stop(interaction: ChatInputCommandInteraction): Promise<void>;
  shutdown(): Promise<void>;
}

interface AudioSource {
  readonly url: string;
  readonly name: string;
  readonly size: number;
  readonly contentType?: string | undefined;
  readonly id: string;
}

export { MESSAGES, PLATFORM };

export class DiscordBot {
  readonly client: Client;
  readonly queue: WorkQueue;
  readonly limiter: RateLimiter;
  readonly deps: DiscordBotDeps;
  readonly scrub: Scrubber;
  readonly #log: Logger;
  readonly #gate: StorageGate;
  #stopping = false;
  readonly #inflight = new Set<Promise<unknown>>();

  constructor(deps: DiscordBotDeps) {
    this.deps = deps;
    const { config } = deps;
    this.scrub = new Scrubber(config.DISCORD_TOKEN);
    this.#log = deps.logger.child({ adapter: 'discord' });
    this.queue =
      deps.queue ?? new WorkQueue({ concurrency: config.WORK_CONCURRENCY, maxQueued: config.WORK_QUEUE_MAX });
    this.limiter =
      deps.limiter ??
      new RateLimiter({
        user: { limit: config.RATE_LIMIT_USER_PER_MINUTE, windowMs: 60_000 },
        guild: { limit: config.RATE_LIMIT_GUILD_PER_MINUTE, windowMs: 60_000 },
      });
    const intents = [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessages,
      GatewayIntentBits.DirectMessages,
      GatewayIntentBits.GuildVoiceStates,
      ...(config.DISCORD_MESSAGE_CONTENT_INTENT ? [GatewayIntentBits.MessageContent] : []),
    ];
    const { rest, ...rest_of } = deps.clientOptions ?? {};
    this.client = new Client({
      intents,
      // DM channels are not cached before their first message: without the Channel partial, DMs are dropped.
      partials: [Partials.Channel, Partials.Message],
      allowedMentions: { parse: [], repliedUser: false },
      rest: { ...(config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {}), ...rest },
      ...rest_of,
    });
    this.#gate = new StorageGate({
      monitor: deps.storageHealth,
      log: this.#log,
      platform: PLATFORM,
      tellAdmins: (text) => tellOwner(this.client, text),
    });
    this.client.on(Events.MessageCreate, (m) => this.#track(this.#onMessage(m)));
    this.client.on(Events.InteractionCreate, (i) => this.#track(this.#onInteraction(i)));
    this.client.on(Events.Error, (e) =>
      this.#log.error({ err: this.scrub.error(e) }, 'discord client error'),
    );
    this.client.on(Events.ShardResume, (id, replayed) =>
      this.#log.info({ shard: id, replayed }, 'gateway resumed'),
    );
    this.client.on(Events.ShardDisconnect, (e, id) =>
      this.#log.warn({ shard: id, code: e.code }, 'gateway disconnected'),
    );
  }

  get logger(): Logger {
    return this.#log;
  }

  /** Logs in and resolves when the gateway says READY. */
  async start(timeoutMs = 60_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      this.client.once(Events.ClientReady, () => resolve());
      timer = setTimeout(
        () => reject(new Error(`no READY from the gateway within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await this.client.login(this.deps.config.DISCORD_TOKEN);
      await ready;
    } finally {
      clearTimeout(timer);
    }
    this.#log.info({ user: this.client.user?.id }, 'discord bot ready');
    this.#gate.check();
  }

  /**
   * SIGTERM: refuse new work, let running analyses finish within the grace period (then abort them),
   * abandon waiting ones; every affected user is told; then disconnect.
   */
  async shutdown(graceMs = this.deps.config.SHUTDOWN_GRACE_S * 1000): Promise<ShutdownReport> {
    this.#stopping = true;
    this.#gate.stop();
    await this.deps.voice
      ?.shutdown()
      .catch((e) => this.#log.warn({ err: this.scrub.error(e) }, 'voice shutdown'));
    const report = await this.queue.shutdown(graceMs);
    // Replies to abandoned and aborted jobs are in flight: let them reach Discord before disconnecting.
    await Promise.race([Promise.allSettled([...this.#inflight]), delay(10_000)]);
    this.#log.info(report, 'discord bot stopped');
    await this.client.destroy();
    return report;
  }

  /** Resolves once every handler started so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#inflight.size) await Promise.allSettled([...this.#inflight]);
  }

  #track(work: Promise<unknown>): void {
    const p = work.catch((e) => this.#log.error({ err: this.scrub.error(e) }, 'handler failed'));
    this.#inflight.add(p);
    void p.finally(() => this.#inflight.delete(p));
  }

  // ---- voice messages -------------------------------------------------------------------------------

  async #onMessage(message: Message): Promise<void> {
    if (message.author.bot || message.system) return;
    const isVoice = message.flags.has(MessageFlags.IsVoiceMessage);
    const inGuild = message.guildId !== null;
    if (inGuild) {
      if (!isVoice) return;
      const guildId = message.guildId as string;
      if (!(await this.deps.settings.isAutoAnalysisChannel(PLATFORM, guildId, message.channelId))) return;
      if (message.attachments.size === 0) {
        // Without the Message Content intent, Discord strips attachments from server messages.
        this.#log.warn(
          { channel: message.channelId },
          'voice message without attachments: Message Content intent is off',
        );
        return;
      }
    }
    const audio = pickAudio([...message.attachments.values()], isVoice);
    if (!audio) return;
    if (await this.deps.settings.isOptedOut(PLATFORM, message.author.id)) {
      if (!inGuild) await message.reply(MESSAGES.optedOutSelf);
      return;
    }
    const limited = this.#rateLimit(message.author.id, message.guildId);
    if (limited) {
      await message.reply(limited);
      return;
    }
    if (this.#stopping || !this.queue.hasRoom) {
      await message.reply(this.#stopping ? MESSAGES.shuttingDown : MESSAGES.busy);
      return;
    }
    const refused = this.#gate.refusal();
    if (refused) {
      await message.reply(refused);
      return;
    }
    const where = { kind: 'message', channelId: message.channelId, sourceMessageId: message.id } as const;
    const ticket = await openJob(
      this.deps.jobs,
      { platform: PLATFORM, userId: message.author.id, reply: where },
      this.#log,
    ).catch(() => undefined);
    if (!ticket) {
      await message.reply(STORAGE_UNAVAILABLE_TEXT);
      return;
    }
    const placeholder = await message.reply('🎧 Listening to your voice message…').catch(async (error) => {
      await ticket.close();
      throw error;
    });
    await ticket.reply({ ...where, messageId: placeholder.id });
    const surface = messageSurface({
      placeholder,
      sourceMessageId: message.id,
      ticket,
      render: (outcome) => this.#messagePayload(outcome, isVoice ? 'Voice message' : audio.name),
      log: this.#log,
      retry: this.deps.replyRetry,
    });
    await this.#run(surface, audio, {
      platform: PLATFORM,
      ...(message.guildId ? { workspaceId: message.guildId } : {}),
      channelId: message.channelId,
      userId: message.author.id,
      sourceId: message.id,
      sourceName: audio.name,
    });
  }

  // ---- interactions ---------------------------------------------------------------------------------

  async #onInteraction(interaction: Interaction): Promise<void> {
    try {
      if (interaction.isChatInputCommand() && interaction.commandName === 'emotion') {
        await this.#onEmotion(interaction);
      } else if (interaction.isMessageContextMenuCommand() && interaction.commandName === CONTEXT_MENU_NAME) {
        await this.#onContextMenu(interaction);
      } else if (interaction.isButton() && interaction.customId.startsWith('forget:')) {
        await this.#onForgetButton(interaction);
      }
    } catch (error) {
      this.#log.error({ err: this.scrub.error(error) }, 'interaction failed');
      if (interaction.isRepliable())
        await this.#ephemeral(interaction, 'Something went wrong on my side; please try again.').catch(
          () => undefined,
        );
    }
  }

  async #onEmotion(interaction: ChatInputCommandInteraction): Promise<void> {
    const sub = interaction.options.getSubcommand();
    const user = interaction.user.id;
    if (interaction.options.getSubcommandGroup(false) === 'digest')
      return digestNow(this.deps, interaction, (text) => this.#ephemeral(interaction, text));
    switch (sub) {
      case 'file': {
        const attachment = interaction.options.getAttachment('audio', true);
        if (await this.deps.settings.isOptedOut(PLATFORM, user))
          return this.#ephemeral(interaction, MESSAGES.optedOutSelf);
        return this.#analyzeForInteraction(interaction, toSource(attachment), attachment.name);
      }
      case 'history': {
        const rows = await this.deps.store.userHistory(PLATFORM, user, 10);
        return this.#ephemeral(interaction, `**Your last analyses**\n${historyText(rows)}`);
      }
      case 'optout': {
        await this.deps.settings.setOptedOut(PLATFORM, user, true);
        return this.#ephemeral(
          interaction,
          'Done: I will not analyse your voice any more — not your voice messages, not through the context menu, and not in voice channels. Your past results are kept; `/emotion forget` deletes them.',
        );
      }
      case 'optin': {
        await this.deps.settings.setOptedOut(PLATFORM, user, false);
        return this.#ephemeral(
          interaction,
          'Welcome back: I will analyse your voice when you or others ask.',
        );
      }
      case 'forget': {
        const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
          new ButtonBuilder()
            .setCustomId('forget:yes')
            .setLabel('Delete all my results')
            .setStyle(ButtonStyle.Danger),
          new ButtonBuilder().setCustomId('forget:no').setLabel('Keep them').setStyle(ButtonStyle.Secondary),
        );
        await interaction.reply({
          content: 'Delete **all** your stored analyses? This cannot be undone.',
          components: [row],
          flags: MessageFlags.Ephemeral,
        });
        return;
      }
      case 'settings':
        return this.#ephemeral(interaction, await settingsAnswer(this.deps, interaction));
      case 'listen':
      case 'stop': {
        if (!this.deps.voice)
          return this.#ephemeral(interaction, 'Voice-channel listening is not available on this bot.');
        if (sub === 'listen') {
          if (await this.deps.settings.isOptedOut(PLATFORM, user))
            return this.#ephemeral(interaction, MESSAGES.optedOutSelf);
          const limited = this.#rateLimit(user, interaction.guildId) ?? this.#gate.refusal();
          if (limited) return this.#ephemeral(interaction, limited);
          return this.deps.voice.listen(interaction, this);
        }
        return this.deps.voice.stop(interaction);
      }
      default:
        return this.#ephemeral(interaction, 'I do not know that command.');
    }
  }

  async #onContextMenu(interaction: MessageContextMenuCommandInteraction): Promise<void> {
    const target = interaction.targetMessage;
    const audio = pickAudio([...target.attachments.values()], target.flags.has(MessageFlags.IsVoiceMessage));
    if (!audio) return this.#ephemeral(interaction, MESSAGES.noAudio);
    if (await this.deps.settings.isOptedOut(PLATFORM, target.author.id)) {
      return this.#ephemeral(
        interaction,
        target.author.id === interaction.user.id ? MESSAGES.optedOutSelf : MESSAGES.optedOutOther,
      );
    }
    return this.#analyzeForInteraction(interaction, audio, audio.name, target.author.id, target.id);
  }

  async #onForgetButton(interaction: ButtonInteraction): Promise<void> {
    if (interaction.customId !== 'forget:yes') {
      await interaction.update({ content: 'Nothing was deleted.', components: [] });
      return;
    }
    const n = await this.deps.store.deleteUser(PLATFORM, interaction.user.id);
    await interaction.update({
      content: `Deleted ${n} stored ${n === 1 ? 'analysis' : 'analyses'}.`,
      components: [],
    });
  }

  async #analyzeForInteraction(
    interaction: ChatInputCommandInteraction | MessageContextMenuCommandInteraction,
    audio: AudioSource,
    title: string,
    subjectId = interaction.user.id,
    sourceId = audio.id,
  ): Promise<void> {
    const limited = this.#rateLimit(interaction.user.id, interaction.guildId);
    if (limited) return this.#ephemeral(interaction, limited);
    const limits = this.#limits();
    // Declared size checked before deferring: these answers need no download.
    if (audio.size === 0)
      return this.#ephemeral(interaction, errorText(new DownloadError('empty', '0 bytes'), limits));
    if (audio.size > this.deps.analyzer.limits.maxBytes)
      return this.#ephemeral(interaction, errorText(new DownloadError('too_large', 'declared'), limits));
    if (this.#stopping) return this.#ephemeral(interaction, MESSAGES.shuttingDown);
    if (!this.queue.hasRoom) return this.#ephemeral(interaction, MESSAGES.busy);
    const refused = this.#gate.refusal();
    if (refused) return this.#ephemeral(interaction, refused);
    const ticket = await openJob(
      this.deps.jobs,
      {
        platform: PLATFORM,
        userId: interaction.user.id,
        reply: {
          kind: 'interaction',
          applicationId: interaction.applicationId,
          token: interaction.token,
          channelId: interaction.channelId,
          userId: interaction.user.id,
          createdAt: interaction.createdTimestamp,
        },
      },
      this.#log,
    ).catch(() => undefined);
    if (!ticket) return this.#ephemeral(interaction, STORAGE_UNAVAILABLE_TEXT);
    await interaction.deferReply().catch(async (error) => {
      await ticket.close();
      throw error;
    });
    const surface = interactionSurface({
      interaction,
      client: this.client,
      deadline: interaction.createdTimestamp + INTERACTION_TOKEN_MS - TOKEN_MARGIN_MS,
      ticket,
      render: (outcome) => this.#messagePayload(outcome, title),
      log: this.#log,
      retry: this.deps.replyRetry,
    });
    await this.#run(surface, audio, {
      platform: PLATFORM,
      ...(interaction.guildId ? { workspaceId: interaction.guildId } : {}),
      channelId: interaction.channelId,
      userId: subjectId,
      sourceId,
      sourceName: audio.name,
    });
  }

  // ---- the shared job --------------------------------------------------------------------------------

  async #run(surface: Surface, audio: AudioSource, context: AnalysisContext): Promise<void> {
    let outcome: JobOutcome;
    try {
      outcome = await this.queue.push((signal) => this.#job(audio, context, signal, surface));
    } catch (error) {
      if (error instanceof ShuttingDownError)
        outcome = { kind: 'error', code: 'shutdown', text: MESSAGES.shuttingDown };
      else if (error instanceof QueueFullError)
        outcome = { kind: 'error', code: 'busy', text: MESSAGES.busy };
      else {
        this.#log.error({ err: this.scrub.error(error) }, 'analysis job failed');
        outcome = {
          kind: 'error',
          code: 'internal',
          text: 'Something went wrong on my side; please try again.',
        };
      }
    }
    try {
      await surface.done(outcome);
    } catch (error) {
      this.#log.error({ err: this.scrub.error(error), outcome: outcome.kind }, 'could not deliver the reply');
    }
  }

  async #job(
    audio: AudioSource,
    context: AnalysisContext,
    signal: AbortSignal,
    surface: Surface,
  ): Promise<JobOutcome> {
    const { config, analyzer } = this.deps;
    const limits = this.#limits();
    let bytes: Uint8Array;
    try {
      bytes = await boundedDownload({
        url: audio.url,
        declaredSize: audio.size,
        maxBytes: analyzer.limits.maxBytes,
        allowedHosts: config.DISCORD_CDN_HOSTS,
        timeoutMs: config.DOWNLOAD_TIMEOUT_S * 1000,
        signal,
      });
    } catch (error) {
      if (signal.aborted) return { kind: 'error', code: 'shutdown', text: MESSAGES.shuttingDown };
      const e = error instanceof DownloadError ? error : new DownloadError('network', String(error));
      this.#log.info({ kind: e.kind, host: safeHost(audio.url) }, 'download refused or failed');
      return { kind: 'error', code: `download.${e.kind}`, text: errorText(e, limits) };
    }
    let last = 0;
    const onProgress = (p: Progress) => {
      if (p.stage !== 'classifying' || p.total < 8 || p.done === p.total) return;
      const now = Date.now();
      if (now - last < PROGRESS_EVERY_MS) return;
      last = now;
      void surface.progress(
        `🎧 Analysing… ${Math.round((p.done / p.total) * 100)}% (${p.done} of ${p.total} segments)`,
      );
    };
    const result = await analyzeRecording(
      analyzer,
      { bytes, name: audio.name, ...(audio.contentType ? { contentType: audio.contentType } : {}) },
      context,
      { signal, onProgress },
    );
    if (result.status === 'failed') {
      if (signal.aborted || result.error.code === 'aborted')
        return { kind: 'error', code: 'shutdown', text: MESSAGES.shuttingDown };
      this.#log.info({ code: result.error.code }, 'analysis failed');
      return { kind: 'error', code: result.error.code, text: errorText(result.error, limits) };
    }
    const stored = savedId(result);
    if (stored) await surface.stored(stored);
    const chart = await renderTimelineChart(result.segments, {
      labels: analyzer.classifier.info.trainedLabels,
    });
    return { kind: 'ok', result, chart };
  }

  /** The finished reply for a result or a failure, as message content. */
  #messagePayload(outcome: JobOutcome, what: string): ReplyPayload {
    return replyPayload(outcome, what, this.deps.analyzer.classifier.info);
  }

  /** Posts an analysis result made elsewhere (voice listening) to a channel, chart attached. */
  async postResult(channelId: string, result: OkResult, what: string, mention?: string): Promise<void> {
    const chart = await renderTimelineChart(result.segments, {
      labels: this.deps.analyzer.classifier.info.trainedLabels,
    });
    const payload = this.#messagePayload({ kind: 'ok', result, chart }, what);
    const channel = await this.client.channels.fetch(channelId);
    if (!channel?.isSendable()) throw new Error('channel not sendable');
    await channel.send({ ...payload, content: mention ?? '' });
  }

  #limits() {
    return {
      maxDurationS: this.deps.analyzer.limits.maxDurationSeconds,
      maxMb: Math.round((this.deps.analyzer.limits.maxBytes / (1024 * 1024)) * 10) / 10,
    };
  }

  /** A friendly sentence when the user or the server is over its limit; undefined when it may go ahead. */
  #rateLimit(userId: string, guildId: string | null): string | undefined {
    const decision = this.limiter.take([
      { scope: 'user', key: userId },
      ...(guildId ? [{ scope: 'guild', key: guildId }] : []),
    ]);
    if (decision.ok) return undefined;
    const when = humanWait(decision.retryAfterMs);
    return decision.scope === 'user'
      ? `You're sending recordings faster than I can listen: please try again ${when}.`
      : `This server has asked for a lot of analyses in the last minute: please try again ${when}.`;
  }

  async #ephemeral(interaction: RepliableInteraction, content: string): Promise<void> {
    if (interaction.deferred || interaction.replied)
      await interaction.followUp({ content, flags: MessageFlags.Ephemeral });
    else await interaction.reply({ content, flags: MessageFlags.Ephemeral });
  }
}

const AUDIO_EXTENSIONS = /\.(ogg|oga|opus|webm|m4a|mp4|aac|mp3|wav|flac|mov|mkv)$/i;

/** The attachment to analyse: a voice message's, else the first that looks like audio (or video). */
export function pickAudio(
  attachments: readonly Attachment[],
  isVoiceMessage: boolean,
): AudioSource | undefined {
  const found =
    (isVoiceMessage ? attachments[0] : undefined) ??
    attachments.find((a) => a.contentType?.startsWith('audio/') || a.contentType?.startsWith('video/')) ??
    attachments.find((a) => AUDIO_EXTENSIONS.test(a.name));
  return found ? toSource(found) : undefined;
}

function toSource(a: Attachment): AudioSource {
  return { url: a.url, name: a.name, size: a.size, contentType: a.contentType ?? undefined, id: a.id };
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid url';
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
