import { randomUUID } from 'node:crypto';
import { type PcmAudio, SAMPLE_RATE } from '../../src/core/audio.ts';
import { addRecording, type BaselineStats } from '../../src/core/baseline.ts';
import { REPORT_LABELS } from '../../src/core/labels.ts';
import type {
  AnalysisStore,
  AudioDecoder,
  AudioInput,
  BaselineKey,
  BaselineStore,
  Clock,
  DecodeOptions,
  DeliveryLedger,
  EmotionClassifier,
  JobJournal,
  JobRecord,
  ModelInfo,
  SettingsStore,
  StorageHealth,
  StorageMonitor,
  TimeRange,
  WorkspaceSettings,
  WorkspaceSettingsPatch,
} from '../../src/core/ports.ts';
import type { AnalysisRecord, StoredAnalysis } from '../../src/core/records.ts';
import { nextFire, type Schedule } from '../../src/digest/schedule.ts';

/** In-memory twins of the core's ports, for unit tests of the core and the adapters. */

export const LABELS = REPORT_LABELS;

export const TWIN_MODEL: ModelInfo = {
  id: 'twin',
  version: '0',
  name: 'in-memory twin',
  labels: LABELS,
  trainedLabels: LABELS.filter((l) => l !== 'question'),
  fixture: true,
  device: { kind: 'cpu', reason: 'in-memory twin' },
};

/** Returns the PCM it was built with, or throws what it was built with. */
export class MemoryDecoder implements AudioDecoder {
  readonly calls: AudioInput[] = [];
  readonly result: PcmAudio | Error;
  constructor(result: PcmAudio | Error) {
    this.result = result;
  }
  async decode(input: AudioInput, options: DecodeOptions): Promise<PcmAudio> {
    options.signal?.throwIfAborted();
    this.calls.push(input);
    if (this.result instanceof Error) throw this.result;
    return this.result;
  }
}

export function pcm(samples: Float32Array): PcmAudio {
  return { samples, sampleRate: SAMPLE_RATE };
}

/** Scores each segment by a pure function of its samples, so tests know every number in advance. */
export class MemoryClassifier implements EmotionClassifier {
  readonly info: ModelInfo;
  readonly batches: number[] = [];
  closed = false;
  readonly score: (segment: Float32Array) => Float32Array;
  constructor(score: (segment: Float32Array) => Float32Array, info: ModelInfo = TWIN_MODEL) {
    this.score = score;
    this.info = info;
  }
  async classify(segments: readonly Float32Array[], signal?: AbortSignal): Promise<Float32Array[]> {
    signal?.throwIfAborted();
    this.batches.push(segments.length);
    return segments.map((s) => this.score(s));
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** The same classifier, each batch delayed by ms: fixture models are too quick to show progress. */
export function slowed(inner: EmotionClassifier, ms: number): EmotionClassifier {
  return {
    info: inner.info,
    classify: async (segments, signal) => {
      await new Promise((r) => setTimeout(r, ms));
      return inner.classify(segments, signal);
    },
    close: async () => {},
  };
}

export class MemoryStore implements AnalysisStore {
  readonly #rows: StoredAnalysis[] = [];
  #next = 1;
  async save(record: AnalysisRecord): Promise<StoredAnalysis> {
    // Like the real stores: a job's analysis stored again replaces the first under its id.
    const earlier = record.jobId === undefined ? -1 : this.#rows.findIndex((r) => r.jobId === record.jobId);
    const stored = { ...record, id: this.#rows[earlier]?.id ?? String(this.#next++) };
    if (earlier >= 0) this.#rows[earlier] = stored;
    else this.#rows.push(stored);
    return stored;
  }
  async get(id: string) {
    return this.#rows.find((r) => r.id === id);
  }
  async byJob(jobId: string) {
    return this.#rows.find((r) => r.jobId === jobId);
  }
  async userHistory(platform: string, userId: string, limit: number) {
    return this.#rows
      .filter((r) => r.platform === platform && r.userId === userId)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
      .slice(0, limit);
  }
  async channelAnalyses(platform: string, channelId: string, range: TimeRange) {
    return this.#rows.filter(
      (r) =>
        r.platform === platform &&
        r.channelId === channelId &&
        r.createdAt >= range.from &&
        r.createdAt < range.to,
    );
  }
  async deleteUser(platform: string, userId: string) {
    return this.#remove((r) => r.platform === platform && r.userId === userId);
  }
  async purgeOlderThan(before: Date) {
    return this.#remove((r) => r.createdAt < before);
  }
  async purgeByWorkspace(platform: string, cutoffs: ReadonlyMap<string, Date>, defaultBefore: Date) {
    return this.#remove((r) => {
      if (r.platform !== platform) return false;
      const cutoff = (r.workspaceId !== undefined ? cutoffs.get(r.workspaceId) : undefined) ?? defaultBefore;
      return r.createdAt < cutoff;
    });
  }
  async close() {}
  #remove(match: (r: StoredAnalysis) => boolean): number {
    const before = this.#rows.length;
    for (let i = this.#rows.length - 1; i >= 0; i--) {
      const row = this.#rows[i];
      if (row && match(row)) this.#rows.splice(i, 1);
    }
    return before - this.#rows.length;
  }
}

/** A 220 Hz tone at the given amplitude: loud enough to count as voiced above about 0.008. */
export function tone(seconds: number, amplitude: number): Float32Array {
  const out = new Float32Array(Math.round(seconds * SAMPLE_RATE));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * 220 * i) / SAMPLE_RATE);
  return out;
}

export function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export class MemorySettingsStore implements SettingsStore {
  readonly #workspaces = new Map<string, { digestChannelId: string | null; retentionDays: number | null }>();
  readonly #auto = new Map<string, string[]>();
  readonly #optOuts = new Set<string>();
  async workspace(platform: string, workspaceId: string): Promise<WorkspaceSettings> {
    const key = `${platform}:${workspaceId}`;
    const ws = this.#workspaces.get(key) ?? { digestChannelId: null, retentionDays: null };
    return { autoAnalysisChannels: [...(this.#auto.get(key) ?? [])], ...ws };
  }
  async updateWorkspace(platform: string, workspaceId: string, patch: WorkspaceSettingsPatch) {
    const key = `${platform}:${workspaceId}`;
    const auto = this.#auto.get(key) ?? [];
    if (patch.addAutoAnalysisChannel !== undefined && !auto.includes(patch.addAutoAnalysisChannel))
      auto.push(patch.addAutoAnalysisChannel);
    if (patch.removeAutoAnalysisChannel !== undefined) {
      const i = auto.indexOf(patch.removeAutoAnalysisChannel);
      if (i >= 0) auto.splice(i, 1);
    }
    this.#auto.set(key, auto);
    const current = await this.workspace(platform, workspaceId);
    this.#workspaces.set(key, {
      digestChannelId: patch.digestChannelId !== undefined ? patch.digestChannelId : current.digestChannelId,
      retentionDays: patch.retentionDays !== undefined ? patch.retentionDays : current.retentionDays,
    });
    return this.workspace(platform, workspaceId);
  }
  async isAutoAnalysisChannel(platform: string, workspaceId: string, channelId: string) {
    return (this.#auto.get(`${platform}:${workspaceId}`) ?? []).includes(channelId);
  }
  async isOptedOut(platform: string, userId: string) {
    return this.#optOuts.has(`${platform}:${userId}`);
  }
  async setOptedOut(platform: string, userId: string, optedOut: boolean) {
    const key = `${platform}:${userId}`;
    const had = this.#optOuts.has(key);
    if (optedOut) this.#optOuts.add(key);
    else this.#optOuts.delete(key);
    return had !== optedOut;
  }
  async close() {}
}

/** The BaselineStore port in memory, with the same rules: opted-out users get none, a new model starts over. */
export class MemoryBaselineStore implements BaselineStore {
  readonly #rows = new Map<string, { key: BaselineKey; stats: BaselineStats }>();
  readonly #optedOut: (platform: string, userId: string) => Promise<boolean>;
  constructor(optedOut: (platform: string, userId: string) => Promise<boolean> = async () => false) {
    this.#optedOut = optedOut;
  }
  async stats(key: BaselineKey): Promise<BaselineStats | undefined> {
    return this.#rows.get(JSON.stringify(key))?.stats;
  }
  async add(key: BaselineKey, embedding: readonly number[]): Promise<BaselineStats | undefined> {
    if (await this.#optedOut(key.platform, key.userId)) return undefined;
    for (const [id, row] of this.#rows) {
      const k = row.key;
      if (k.platform === key.platform && k.workspaceId === key.workspaceId && k.userId === key.userId)
        if (k.modelId !== key.modelId || k.modelVersion !== key.modelVersion) this.#rows.delete(id);
    }
    const stats = addRecording(await this.stats(key), embedding);
    this.#rows.set(JSON.stringify(key), { key, stats });
    return stats;
  }
  async reset(platform: string, workspaceId: string, userId: string): Promise<boolean> {
    let deleted = false;
    for (const [id, { key }] of this.#rows) {
      if (key.platform === platform && key.workspaceId === workspaceId && key.userId === userId) {
        this.#rows.delete(id);
        deleted = true;
      }
    }
    return deleted;
  }
}

/**
 * A clock that only moves when told. `advanceTo` runs every registered cron fire up to the target in
 * time order (the clock reads each fire's time while its task runs), then stops at the target.
 */
interface FakeCronEntry {
  readonly schedule: Schedule;
  readonly zone: string;
  readonly task: () => Promise<void>;
  readonly signal: AbortSignal;
  last: number;
}

export class FakeClock implements Clock {
  #now: number;
  readonly #tasks = new Set<FakeCronEntry>();
  constructor(start: Date | string) {
    this.#now = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.#now);
  }
  /** Moves the time without firing anything (a process that was not running). */
  set(at: Date | string): void {
    this.#now = new Date(at).getTime();
    for (const t of this.#tasks) t.last = this.#now;
  }
  cron(expression: string, timeZone: string, task: () => Promise<void>, signal: AbortSignal): void {
    if (signal.aborted) return;
    const entry: FakeCronEntry = {
      schedule: { kind: 'cron', text: expression, cron: expression },
      zone: timeZone,
      task,
      signal,
      last: this.#now,
    };
    this.#tasks.add(entry);
    signal.addEventListener('abort', () => this.#tasks.delete(entry), { once: true });
  }
  get registrations(): number {
    return this.#tasks.size;
  }
  async advanceTo(at: Date | string): Promise<void> {
    const target = new Date(at).getTime();
    for (;;) {
      let next: { entry: FakeCronEntry; at: number } | undefined;
      for (const entry of this.#tasks) {
        const fire = nextFire(entry.schedule, entry.zone, new Date(entry.last))?.getTime();
        if (fire !== undefined && fire <= target && (!next || fire < next.at)) next = { entry, at: fire };
      }
      if (!next) break;
      this.#now = next.at;
      next.entry.last = next.at;
      if (!next.entry.signal.aborted) await next.entry.task();
    }
    this.#now = target;
  }
  advance(ms: number): Promise<void> {
    return this.advanceTo(new Date(this.#now + ms));
  }
}

/** In-memory JobJournal: ids are sequential, so tests can name them. */
export class MemoryJobJournal implements JobJournal {
  readonly jobs = new Map<string, JobRecord & { closed: boolean }>();
  async open(job: Parameters<JobJournal['open']>[0]): Promise<string> {
    // Unique across journals, as the real ones' are: a store shared by several tests finds results by job id.
    const id = randomUUID();
    this.jobs.set(id, { ...job, id, analysisId: null, queuedUntil: null, closed: false });
    return id;
  }
  async setReply(id: string, reply: string): Promise<void> {
    const job = this.jobs.get(id);
    if (job) this.jobs.set(id, { ...job, reply });
  }
  async setAnalysis(id: string, analysisId: string): Promise<void> {
    const job = this.jobs.get(id);
    if (job) this.jobs.set(id, { ...job, analysisId });
  }
  async queued(id: string, until: Date): Promise<void> {
    const job = this.jobs.get(id);
    if (job) this.jobs.set(id, { ...job, queuedUntil: until });
  }
  async close(id: string): Promise<void> {
    const job = this.jobs.get(id);
    if (job) this.jobs.set(id, { ...job, closed: true });
  }
  async unfinished(platform: string): Promise<JobRecord[]> {
    return [...this.jobs.values()]
      .filter((j) => !j.closed && j.platform === platform)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .map(({ closed: _closed, ...job }) => job);
  }
}

/** In-memory DeliveryLedger. */
export class MemoryDeliveryLedger implements DeliveryLedger {
  readonly seen = new Map<string, Date>();
  async firstDelivery(platform: string, eventId: string, expiresAt: Date): Promise<boolean> {
    const key = `${platform}\u0000${eventId}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, expiresAt);
    return true;
  }
  async purgeExpired(now: Date): Promise<number> {
    let purged = 0;
    for (const [key, expiresAt] of this.seen) if (expiresAt < now && this.seen.delete(key)) purged++;
    return purged;
  }
}

/** StorageMonitor whose health a test sets. */
export class MemoryStorageMonitor implements StorageMonitor {
  #health: StorageHealth = { state: 'ok' };
  readonly #listeners = new Set<(health: StorageHealth) => void>();
  health(): StorageHealth {
    return this.#health;
  }
  set(health: StorageHealth): void {
    this.#health = health;
    for (const listener of this.#listeners) listener(health);
  }
  onChange(listener: (health: StorageHealth) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
