import { describe, expect, it } from 'vitest';
import {
  admit,
  declaredSize,
  notOptedOut,
  notStopping,
  queueRoom,
  storageAvailable,
  withinRate,
} from '../../../src/bots/shared/admission.ts';
import { runJob } from '../../../src/bots/shared/job.ts';
import { throttleProgress } from '../../../src/bots/shared/progress.ts';
import { RateLimiter } from '../../../src/bots/shared/rate-limit.ts';
import { type Dialect, maxMb, replyText } from '../../../src/bots/shared/replies.ts';
import { WorkQueue } from '../../../src/bots/shared/work-queue.ts';
import { ERROR_CODES } from '../../../src/core/errors.ts';
import type { DecodeLimits } from '../../../src/core/ports.ts';
import { createLogger } from '../../../src/log.ts';
import { voice } from '../../core/signals.ts';
import { recordingSurface } from '../../support/surfaces.ts';
import {
  LABELS,
  MemoryClassifier,
  MemoryDecoder,
  MemoryJobJournal,
  MemorySettingsStore,
  MemoryStorageMonitor,
  MemoryStore,
  pcm,
} from '../../support/twins.ts';

const limits: DecodeLimits = { maxBytes: 20_000, maxDurationSeconds: 600, timeoutMs: 1000 };
const dialect: Dialect = { platformName: 'Test', workspaceWord: 'server' };
const replies = { limits, dialect };

describe('shared replies: one mapping from codes to words', () => {
  it('says "busy" in the core’s words, never a copy', () => {
    expect(replyText('inference.overloaded', replies)).toBe(ERROR_CODES['inference.overloaded']);
  });

  it('states the size limit one way (two significant digits) for every platform', () => {
    expect(maxMb({ maxBytes: 20_000 })).toBe(0.019);
    expect(maxMb({ maxBytes: 1024 * 1024 })).toBe(1);
    expect(replyText('audio.too_large', replies)).toMatch(/the limit is 0\.019 MB/);
    const slack: Dialect = { ...dialect, overrides: { 'audio.too_large': (f) => `over ${f.maxMb} MB` } };
    expect(replyText('audio.too_large', { limits, dialect: slack })).toBe('over 0.019 MB');
  });
});

describe('shared admission: small checks in one order, the first refusal wins', () => {
  it('refuses with the first failing check’s code and never counts the rate limit of refused work', async () => {
    const settings = new MemorySettingsStore();
    await settings.setOptedOut('test', 'alice', true);
    const monitor = new MemoryStorageMonitor();
    const limiter = new RateLimiter({ user: { limit: 1, windowMs: 60_000 } });
    const queue = new WorkQueue({ concurrency: 1, maxQueued: 0 });
    let stopping = true;
    let size: number | undefined = 50_000;
    const checks = (who: string) => [
      notStopping(() => stopping, replies),
      storageAvailable(monitor, replies),
      notOptedOut(settings, { platform: 'test', speakerId: who, requesterId: who }, replies),
      declaredSize(() => size, replies),
      withinRate(limiter, { user: { scope: 'user', key: who } }, replies),
      queueRoom(queue, replies),
    ];
    const code = async (who: string) => {
      const a = await admit(checks(who));
      return a.ok ? 'ok' : a.refusal.code;
    };
    monitor.set({ state: 'lost', detail: 'deleted', since: new Date() });
    expect(await code('alice')).toBe('stopping');
    stopping = false;
    expect(await code('alice')).toBe('storage.unavailable');
    monitor.set({ state: 'ok' });
    expect(await code('alice')).toBe('opted_out.self');
    expect(await code('bob')).toBe('audio.too_large');
    size = 0;
    expect(await code('bob')).toBe('audio.empty');
    size = 100;
    expect(await code('bob')).toBe('ok');
    expect(await code('bob')).toBe('rate.user');
    // carol's first request is refused only by the full queue; her rate limit was counted once.
    const hold = queue.push(() => new Promise<void>((r) => setTimeout(r, 50)));
    expect(await code('carol')).toBe('inference.overloaded');
    await hold;
  });
});

describe('shared progress: one throttle for every surface', () => {
  it('keeps one edit in flight, at most one per interval, none for the last batch, and settles', async () => {
    let now = 0;
    const sent: number[] = [];
    let release: () => void = () => undefined;
    const throttle = throttleProgress(
      { everyMs: 1000, minSegments: 4 },
      (p) => {
        sent.push(p.done);
        return new Promise<void>((r) => {
          release = r;
        });
      },
      () => now,
    );
    throttle.onProgress({ stage: 'classifying', done: 1, total: 3 }); // too short a recording
    throttle.onProgress({ stage: 'classifying', done: 8, total: 24 });
    now = 5000;
    throttle.onProgress({ stage: 'classifying', done: 16, total: 24 }); // one already in flight
    release();
    await throttle.settle();
    now = 5500;
    throttle.onProgress({ stage: 'classifying', done: 16, total: 24 });
    now = 7000;
    throttle.onProgress({ stage: 'classifying', done: 24, total: 24 }); // the result follows anyway
    expect(sent).toEqual([8, 16]);
  });
});

describe('runJob: the one job every adapter runs', () => {
  const neutral = () => {
    const row = new Float32Array(LABELS.length);
    row[5] = 1;
    return row;
  };
  const pipeline = (jobs: MemoryJobJournal, store = new MemoryStore()) => ({
    analyzer: {
      decoder: new MemoryDecoder(pcm(voice(6, 0.5))),
      classifier: new MemoryClassifier(neutral),
      limits,
      store,
    },
    queue: new WorkQueue({ concurrency: 1, maxQueued: 5 }),
    jobs,
    log: createLogger('silent'),
    replies,
  });
  const request = (download: () => Promise<Uint8Array>) => ({
    checks: [],
    journal: { platform: 'test', userId: 'u1', reply: {} },
    audio: { name: 'a.ogg' },
    download,
    context: { platform: 'test', userId: 'u1' },
  });

  it('opens the journal, shows the waiting reply, answers with the result, records it and closes the job', async () => {
    const jobs = new MemoryJobJournal();
    const { shown, surface } = recordingSurface();
    await runJob(
      pipeline(jobs),
      request(async () => new Uint8Array([1])),
      surface,
    );
    expect(shown.opened).toBe(1);
    expect(shown.outcomes.map((o) => o.kind)).toEqual(['ok']);
    const [job] = jobs.jobs.values();
    expect(job).toMatchObject({ closed: true, reply: JSON.stringify({ where: 'here' }) });
    expect(job?.analysisId).toBe('1');
  });

  it('answers a failed download with its code and still closes the job', async () => {
    const jobs = new MemoryJobJournal();
    const { shown, surface } = recordingSurface();
    await runJob(
      pipeline(jobs),
      request(async () => {
        throw new Error('socket hang up');
      }),
      surface,
    );
    expect(shown.outcomes).toEqual([
      { kind: 'error', code: 'download.failed', text: 'I couldn’t download the file. Please try again.' },
    ]);
    expect([...jobs.jobs.values()][0]?.closed).toBe(true);
  });

  it('refuses through the surface, without a job, when a check refuses', async () => {
    const jobs = new MemoryJobJournal();
    const { shown, surface } = recordingSurface();
    await runJob(
      pipeline(jobs),
      { ...request(async () => new Uint8Array([1])), checks: [notStopping(() => true, replies)] },
      surface,
    );
    expect(shown.refused.map((r) => r.code)).toEqual(['stopping']);
    expect(shown.opened).toBe(0);
    expect(jobs.jobs.size).toBe(0);
  });
});
