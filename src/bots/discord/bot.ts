import {
  Client,
  type ClientOptions,
  Events,
  GatewayIntentBits,
  type Interaction,
  Partials,
} from 'discord.js';
import { CONTEXT_MENU_NAME } from '../../../commands/emotion.ts';
import type { Logger } from '../../log.ts';
import type { JobPipeline } from '../shared/job.ts';
import { RateLimiter, type RateRule } from '../shared/rate-limit.ts';
import { replyText } from '../shared/replies.ts';
import { StorageGate } from '../shared/storage-gate.ts';
import { type ShutdownReport, WorkQueue } from '../shared/work-queue.ts';
import { onContextMenu } from './analyze-command.ts';
import type { DiscordConfig } from './config.ts';
import { DISCORD_DIALECT, type DiscordBotDeps, type DiscordContext, ephemeral } from './context.ts';
import { onEmotion } from './emotion-command.ts';
import { MESSAGES, PLATFORM } from './messages.ts';
import { tellOwner } from './owner.ts';
import { onForgetButton } from './privacy.ts';
import { Scrubber } from './scrub.ts';
import { onVoiceMessage } from './voice-messages.ts';

export { pickAudio } from './attachments.ts';
export type { DiscordBotDeps } from './context.ts';
export type { VoiceCommands } from './voice-port.ts';
export { MESSAGES, PLATFORM };

/**
 * The Discord adapter: a discord.js client whose events are routed to handler files of one concern each
 * (voice-messages.ts, analyze-command.ts, emotion-command.ts, privacy.ts, settings.ts, voice.ts). Every
 * analysis runs through the shared job (shared/job.ts) with a Discord surface (surfaces.ts).
 */
export class DiscordBot {
  readonly client: Client;
  readonly queue: WorkQueue;
  readonly limiter: RateLimiter;
  readonly deps: DiscordBotDeps;
  readonly scrub: Scrubber;
  readonly #log: Logger;
  readonly #gate: StorageGate;
  readonly #ctx: DiscordContext;
  readonly #ownsQueue: boolean;
  #stopping = false;
  readonly #inflight = new Set<Promise<unknown>>();

  constructor(deps: DiscordBotDeps) {
    this.deps = deps;
    const { config } = deps;
    this.scrub = new Scrubber(config.DISCORD_TOKEN);
    this.#log = deps.logger.child({ adapter: 'discord' });
    this.#ownsQueue = deps.queue === undefined;
    this.queue =
      deps.queue ??
      new WorkQueue({ concurrency: config.bot.workConcurrency, maxQueued: config.bot.workQueueMax });
    this.limiter = deps.limiter ?? new RateLimiter(discordRateRules(config));
    this.client = createClient(config, deps.clientOptions);
    this.#gate = new StorageGate({
      monitor: deps.storageHealth,
      log: this.#log,
      platform: PLATFORM,
      tellAdmins: (text) => tellOwner(this.client, text),
    });
    const pipeline: JobPipeline = {
      analyzer: deps.analyzer,
      analysis: deps.analysis,
      queue: this.queue,
      jobs: deps.jobs,
      log: this.#log,
      redact: (text) => this.scrub.text(text),
      replies: { limits: deps.analyzer.limits, dialect: DISCORD_DIALECT },
    };
    this.#ctx = {
      deps,
      client: this.client,
      log: this.#log,
      pipeline,
      limiter: this.limiter,
      stopping: () => this.#stopping,
    };
    this.client.on(Events.MessageCreate, (m) => this.#track(onVoiceMessage(this.#ctx, m)));
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
   * Stop, step one: refuse new work and end voice sessions (their summaries still go on the queue).
   * Then the queue's owner shuts the queue (abandoned and aborted jobs are answered), then `disconnect`.
   */
  async beginStop(): Promise<void> {
    this.#stopping = true;
    this.#gate.stop();
    await this.deps.voice
      ?.shutdown()
      .catch((e) => this.#log.warn({ err: this.scrub.error(e) }, 'voice shutdown'));
  }

  /** Stop, last step: lets the replies to finished, abandoned and aborted jobs reach Discord, then logs out. */
  async disconnect(): Promise<void> {
    await Promise.race([Promise.allSettled([...this.#inflight]), delay(10_000)]);
    await this.client.destroy();
  }

  /**
   * SIGTERM for a bot that owns its queue (tests; in `npm start` the runtime owns it): refuse new work, let
   * running analyses finish within the grace period (then abort them), abandon waiting ones; every affected
   * user is told; then disconnect.
   */
  async shutdown(graceMs = this.deps.config.bot.shutdownGraceMs): Promise<ShutdownReport> {
    await this.beginStop();
    const report = this.#ownsQueue ? await this.queue.shutdown(graceMs) : { abandoned: 0, aborted: 0 };
    await this.disconnect();
    this.#log.info(report, 'discord bot stopped');
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

  async #onInteraction(interaction: Interaction): Promise<void> {
    try {
      if (interaction.isChatInputCommand() && interaction.commandName === 'emotion') {
        await onEmotion(this.#ctx, interaction);
      } else if (interaction.isMessageContextMenuCommand() && interaction.commandName === CONTEXT_MENU_NAME) {
        await onContextMenu(this.#ctx, interaction);
      } else if (interaction.isButton() && interaction.customId.startsWith('forget:')) {
        await onForgetButton(this.#ctx, interaction);
      }
    } catch (error) {
      this.#log.error({ err: this.scrub.error(error) }, 'interaction failed');
      if (interaction.isRepliable())
        await ephemeral(interaction, replyText('internal', this.#ctx.pipeline.replies)).catch(
          () => undefined,
        );
    }
  }
}

/** Per person and per server, a minute's window each. */
export function discordRateRules(config: DiscordConfig): Record<string, RateRule> {
  return {
    user: { limit: config.bot.rateLimitUserPerMinute, windowMs: 60_000 },
    guild: { limit: config.RATE_LIMIT_GUILD_PER_MINUTE, windowMs: 60_000 },
  };
}

function createClient(config: DiscordConfig, options: Partial<ClientOptions> = {}): Client {
  const intents = [
    GatewayIntentBits.Guilds,
    GatewayIntentBits.GuildMessages,
    GatewayIntentBits.DirectMessages,
    GatewayIntentBits.GuildVoiceStates,
    ...(config.DISCORD_MESSAGE_CONTENT_INTENT ? [GatewayIntentBits.MessageContent] : []),
  ];
  const { rest, ...others } = options;
  return new Client({
    intents,
    // DM channels are not cached before their first message: without the Channel partial, DMs are dropped.
    partials: [Partials.Channel, Partials.Message],
    allowedMentions: { parse: [], repliedUser: false },
    rest: { ...(config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {}), ...rest },
    ...others,
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
