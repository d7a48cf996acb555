import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnalysisStore, DigestConfig, DigestStore, SettingsStore } from '../../src/core/ports.ts';
import type { AnalysisRecord, SegmentResult } from '../../src/core/records.ts';
import type { Digest } from '../../src/digest/content.ts';
import {
  type DigestPoster,
  DigestScheduler,
  type DigestSchedulerOptions,
} from '../../src/digest/scheduler.ts';
import { type DigestSettingsInput, updateDigestSettings } from '../../src/digest/settings.ts';
import { createLogger } from '../../src/log.ts';
import { SqliteDigestStore } from '../../src/storage/digest-store.ts';
import { SqliteSettingsStore } from '../../src/storage/settings-store.ts';
import { SqliteStore } from '../../src/storage/sqlite-store.ts';
import { FakeClock, LABELS } from '../support/twins.ts';

export const PLATFORM = 'discord';
export const WS = 'G1';
export const CH = 'C1';

/** One process's view of a shared database file: its own connections, clock, poster and scheduler. */
export interface Proc {
  readonly store: SqliteStore;
  readonly settings: SqliteSettingsStore;
  readonly digests: SqliteDigestStore;
  readonly clock: FakeClock;
  readonly poster: RecordingPoster;
  readonly scheduler: DigestScheduler;
  close(): Promise<void>;
}

export class RecordingPoster implements DigestPoster {
  readonly posts: { config: DigestConfig; digest: Digest }[] = [];
  failures = 0;
  /** A post that never answers by itself (until aborted). */
  hang = false;
  async post(config: DigestConfig, digest: Digest, signal: AbortSignal) {
    if (this.hang)
      await new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
      );
    if (this.failures > 0) {
      this.failures--;
      throw new Error('fake platform: 500');
    }
    this.posts.push({ config, digest });
    return { messageId: `m${this.posts.length}` };
  }
}

export function tempDb(): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'annamalai-digest-'));
  return { path: join(dir, 'bot.db'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One process's scheduler on `stores` (its own connections), with its own fake clock and poster. */
export function schedulerOn(
  stores: { readonly store: AnalysisStore; readonly settings: SettingsStore; readonly digests: DigestStore },
  now: string,
  options: Partial<DigestSchedulerOptions> & { name?: string } = {},
): { clock: FakeClock; poster: RecordingPoster; scheduler: DigestScheduler } {
  const clock = new FakeClock(now);
  const poster = new RecordingPoster();
  const scheduler = new DigestScheduler({
    platform: PLATFORM,
    ...stores,
    clock,
    poster,
    logger: createLogger('silent'),
    labels: LABELS.filter((l) => l !== 'question'),
    claimant: options.name ?? 'proc',
    reloadCron: null,
    ...options,
  });
  return { clock, poster, scheduler };
}

export function openProc(
  path: string,
  now: string,
  options: Partial<DigestSchedulerOptions> & { name?: string } = {},
): Proc {
  const store = new SqliteStore({ path });
  const settings = new SqliteSettingsStore({ path });
  const digests = new SqliteDigestStore({ path });
  const proc = schedulerOn({ store, settings, digests }, now, options);
  return {
    store,
    settings,
    digests,
    ...proc,
    async close() {
      await proc.scheduler.stop(1000);
      await Promise.all([store.close(), settings.close(), digests.close()]);
    },
  };
}

export function configure(
  p: { readonly digests: DigestStore; readonly clock: FakeClock },
  input: DigestSettingsInput,
  channelId = CH,
): Promise<DigestConfig> {
  return updateDigestSettings(
    p.digests,
    { platform: PLATFORM, workspaceId: WS, channelId },
    input,
    p.clock.now(),
  );
}

/** An analysed recording: one 5-s speech segment per [label, confidence], or silence for null. */
export function recording(
  at: string,
  userId: string,
  tops: ([string, number] | null)[],
  extra: Partial<AnalysisRecord> = {},
): AnalysisRecord {
  const segments: SegmentResult[] = tops.map((t, i) =>
    t === null
      ? { index: i, startS: i * 5, endS: i * 5 + 5, kind: 'silence' }
      : {
          index: i,
          startS: i * 5,
          endS: i * 5 + 5,
          kind: 'speech',
          probabilities: { [t[0]]: t[1] },
          top: [{ label: t[0], confidence: t[1] }],
          band: t[1] >= 0.8 ? 'green' : t[1] >= 0.6 ? 'orange' : 'red',
        },
  );
  return {
    platform: PLATFORM,
    workspaceId: WS,
    channelId: CH,
    userId,
    sourceName: `clip-of-${userId}.ogg`,
    durationS: tops.length * 5,
    model: { id: 'twin', version: '0' },
    createdAt: new Date(at),
    outcome: { status: 'ok', segments },
    ...extra,
  };
}
