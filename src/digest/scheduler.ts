import { randomUUID } from 'node:crypto';
import type {
  AnalysisStore,
  Clock,
  DigestConfig,
  DigestKey,
  DigestStore,
  SettingsStore,
} from '../core/ports.ts';
import type { Logger } from '../log.ts';
import { buildDigest, type Digest } from './content.ts';
import {
  DEFAULT_SCHEDULE,
  DEFAULT_TIME_ZONE,
  latestFire,
  parseSchedule,
  periodOf,
  previousPeriod,
  type Schedule,
} from './schedule.ts';

/**
 * Posts each enabled channel digest once per period and purges old results daily.
 *
 * Every decision is made in `tick()` from the clock's time: for each enabled digest, the latest fire at
 * or before now names the period to post; it is claimed (and recorded as posted) in one BEGIN IMMEDIATE
 * transaction keyed by (platform, workspace, channel, period start), so a restart, a second tick or a
 * second process sharing the database never posts it again. Only the latest fire is considered, so a
 * digest missed while the bot was down is posted once when it comes back, and older missed ones never.
 * A post that fails is marked failed and retried after 1, 5 and 30 minutes, then given up; a crash between
 * claim and post loses that digest rather than risk posting it twice.
 *
 * Ticks run at start, at every fire of every enabled schedule (node-cron, in the digest's zone), and at
 * every `reloadCron` beat (default each minute), which also picks up settings changed by another
 * process and due retries.
 */

export const DEFAULT_RETENTION_DAYS = 90;
export const PURGE_CRON = '30 3 * * *';
const RETRY_DELAYS_MS = [60_000, 5 * 60_000, 30 * 60_000];

export interface DigestPoster {
  /** Posts a digest (or, when it has no recordings, its one short line) to the config's target channel. */
  post(config: DigestConfig, digest: Digest, signal: AbortSignal): Promise<{ messageId: string | null }>;
}

export interface DigestSchedulerOptions {
  readonly platform: string;
  readonly store: AnalysisStore;
  readonly settings: SettingsStore;
  readonly digests: DigestStore;
  readonly clock: Clock;
  readonly poster: DigestPoster;
  readonly logger: Logger;
  /** Labels to chart (the model's trained labels). */
  readonly labels: readonly string[];
  /** Who claims, in the runs table (default: a random id per process). */
  readonly claimant?: string;
  readonly reloadCron?: string | null;
  readonly retryDelaysMs?: readonly number[];
  readonly defaultRetentionDays?: number;
  readonly postTimeoutMs?: number;
}

export interface TickReport {
  readonly posted: string[];
  readonly empty: string[];
  readonly failed: string[];
  readonly purged: number | null;
}

export class DigestScheduler {
  readonly #o: DigestSchedulerOptions;
  readonly #claimant: string;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  /** Registered schedule fires by "workspace/channel schedule zone". */
  readonly #registered = new Map<string, AbortController>();
  #chain: Promise<unknown> = Promise.resolve();
  #started = false;

  constructor(options: DigestSchedulerOptions) {
    this.#o = options;
    this.#claimant = options.claimant ?? `${options.platform}-${randomUUID()}`;
    this.#log = options.logger.child({ component: 'digest' });
  }

  get stopping(): boolean {
    return this.#stop.signal.aborted;
  }

  /** Catches up (the latest missed digests, a due purge), then follows the schedules. */
  async start(): Promise<TickReport> {
    if (this.#started) throw new Error('digest scheduler already started');
    this.#started = true;
    const reload = this.#o.reloadCron === undefined ? '* * * * *' : this.#o.reloadCron;
    if (reload) this.#o.clock.cron(reload, 'UTC', () => this.#beat(), this.#stop.signal);
    return this.tick();
  }

  /** Stops following the schedules and waits (at most `timeoutMs`) for a tick in flight. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.#stop.abort(new Error('digest scheduler stopping'));
    for (const c of this.#registered.values()) c.abort();
    this.#registered.clear();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#chain.catch(() => undefined),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  async #beat(): Promise<void> {
    try {
      await this.tick();
    } catch (error) {
      this.#log.error({ err: String(error) }, 'digest tick failed');
    }
  }

  /** Does everything due at the clock's now. Ticks never overlap: a second call waits for the first. */
  tick(): Promise<TickReport> {
    const next = this.#chain.catch(() => undefined).then(() => this.#tick());
    this.#chain = next;
    return next;
  }

  async #tick(): Promise<TickReport> {
    const report = {
      posted: [] as string[],
      empty: [] as string[],
      failed: [] as string[],
      purged: null as number | null,
    };
    if (this.stopping) return report;
    const configs = await this.#o.digests.enabledConfigs(this.#o.platform);
    this.#follow(configs);
    for (const config of configs) {
      if (this.stopping) break;
      await this.#runDigest(config, report);
    }
    if (!this.stopping) report.purged = await this.#maybePurge();
    return report;
  }

  /** Registers a clock fire per enabled schedule, drops those no longer wanted. */
  #follow(configs: readonly DigestConfig[]): void {
    if (this.stopping || !this.#started) return;
    const wanted = new Map<string, { cron: string; zone: string }>();
    for (const c of configs) {
      try {
        wanted.set(`${c.workspaceId}/${c.channelId} ${c.schedule} ${c.timeZone}`, {
          cron: parseSchedule(c.schedule).cron,
          zone: c.timeZone,
        });
      } catch {
        // Reported by #runDigest.
      }
    }
    for (const [key, controller] of this.#registered)
      if (!wanted.has(key)) {
        controller.abort();
        this.#registered.delete(key);
      }
    for (const [key, { cron, zone }] of wanted) {
      if (this.#registered.has(key)) continue;
      const controller = new AbortController();
      this.#registered.set(key, controller);
      this.#o.clock.cron(
        cron,
        zone,
        () => this.#beat(),
        AbortSignal.any([controller.signal, this.#stop.signal]),
      );
    }
  }

  async #runDigest(config: DigestConfig, report: TickReport): Promise<void> {
    const label = `${config.workspaceId}/${config.channelId}`;
    let schedule: Schedule;
    try {
      schedule = parseSchedule(config.schedule);
    } catch (error) {
      this.#log.warn({ channel: config.channelId, err: String(error) }, 'digest schedule unusable');
      return;
    }
    const now = this.#o.clock.now();
    const fire = latestFire(schedule, config.timeZone, now);
    if (!fire || fire.getTime() <= config.activeSince.getTime()) return;
    const period = periodOf(schedule, config.timeZone, fire);
    const key: DigestKey = {
      platform: config.platform,
      workspaceId: config.workspaceId,
      channelId: config.channelId,
      periodStart: period.start.getTime(),
    };
    if (!(await this.#o.digests.claim(key, period.end.getTime(), this.#claimant, now))) return;
    try {
      const digest = await this.build(config.channelId, schedule, config.timeZone, fire);
      if (digest.current.recordings === 0 && !config.emptyLine) {
        await this.#o.digests.finish(key, { status: 'empty' });
        report.empty.push(label);
        this.#log.info({ channel: config.channelId }, 'digest period empty: nothing posted');
        return;
      }
      const signal = AbortSignal.any([
        this.#stop.signal,
        AbortSignal.timeout(this.#o.postTimeoutMs ?? 60_000),
      ]);
      const { messageId } = await abortable(this.#o.poster.post(config, digest, signal), signal);
      await this.#o.digests.finish(key, { status: 'posted', messageId });
      report.posted.push(label);
      this.#log.info({ channel: config.channelId, target: config.targetChannelId }, 'digest posted');
    } catch (error) {
      const run = await this.#o.digests.run(key);
      const delay = (this.#o.retryDelaysMs ?? RETRY_DELAYS_MS)[(run?.attempts ?? 1) - 1];
      const nextAttemptAt = delay === undefined ? null : new Date(this.#o.clock.now().getTime() + delay);
      await this.#o.digests.finish(key, { status: 'failed', error: String(error), nextAttemptAt });
      report.failed.push(label);
      this.#log.warn(
        { channel: config.channelId, err: String(error), retryAt: nextAttemptAt?.toISOString() ?? 'never' },
        'digest post failed',
      );
    }
  }

  /** The digest of the period ending at `fire` (opted-out people left out). */
  build(channelId: string, schedule: Schedule, timeZone: string, fire: Date): Promise<Digest> {
    return composeDigest(this.#o, channelId, schedule, timeZone, fire);
  }

  async #maybePurge(): Promise<number | null> {
    const now = this.#o.clock.now();
    const fire = latestFire(parseSchedule(PURGE_CRON), 'UTC', now);
    if (!fire) return null;
    const job = `purge:${this.#o.platform}`;
    if (!(await this.#o.digests.claimJob(job, fire.toISOString(), this.#claimant, now))) return null;
    return this.purge();
  }

  /** Deletes results older than each workspace's retention (default 90 days); returns how many. */
  async purge(): Promise<number> {
    const now = this.#o.clock.now().getTime();
    const day = 86_400_000;
    const cutoffs = new Map<string, Date>();
    for (const r of await this.#o.digests.retentions(this.#o.platform))
      cutoffs.set(r.workspaceId, new Date(now - r.retentionDays * day));
    const deleted = await this.#o.store.purgeByWorkspace(
      this.#o.platform,
      cutoffs,
      new Date(now - (this.#o.defaultRetentionDays ?? DEFAULT_RETENTION_DAYS) * day),
    );
    this.#log.info({ deleted, workspaces: cutoffs.size }, 'retention purge');
    return deleted;
  }
}

export type DigestSources = Pick<DigestSchedulerOptions, 'platform' | 'store' | 'settings' | 'labels'>;

/** The digest of one channel for the period ending at `fire`; opted-out people's recordings left out. */
export async function composeDigest(
  deps: DigestSources,
  channelId: string,
  schedule: Schedule,
  timeZone: string,
  fire: Date,
): Promise<Digest> {
  const period = periodOf(schedule, timeZone, fire);
  const before = previousPeriod(schedule, timeZone, period);
  const [analyses, previousAnalyses] = await Promise.all([
    deps.store.channelAnalyses(deps.platform, channelId, { from: period.start, to: period.end }),
    deps.store.channelAnalyses(deps.platform, channelId, { from: before.start, to: before.end }),
  ]);
  const users = new Set<string>();
  for (const r of [...analyses, ...previousAnalyses]) if (r.userId !== undefined) users.add(r.userId);
  const optedOut = new Set<string>();
  for (const u of users) if (await deps.settings.isOptedOut(deps.platform, u)) optedOut.add(u);
  return buildDigest({
    channelId,
    timeZone,
    scheduleKind: schedule.kind,
    period,
    previousPeriod: before,
    analyses,
    previousAnalyses,
    optedOut: (u) => optedOut.has(u),
    labels: deps.labels,
  });
}

/**
 * A preview of a channel's digest (its settings, else weekly in UTC) for the latest complete period at
 * `now`: what the last scheduled digest said or would have said. Nothing is claimed or recorded.
 */
export async function previewDigest(
  deps: DigestSources & { readonly digests: DigestStore },
  workspaceId: string,
  channelId: string,
  now: Date,
): Promise<{ digest: Digest; config: DigestConfig | undefined }> {
  const config = await deps.digests.config(deps.platform, workspaceId, channelId);
  const schedule = parseSchedule(config?.schedule ?? DEFAULT_SCHEDULE);
  const zone = config?.timeZone ?? DEFAULT_TIME_ZONE;
  const fire = latestFire(schedule, zone, now) ?? now;
  return { digest: await composeDigest(deps, channelId, schedule, zone, fire), config };
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
