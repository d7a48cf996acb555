import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EVENT_MEMORY_MS, EventDedupe } from '../../../src/bots/shared/event-dedupe.ts';
import { openJob } from '../../../src/bots/shared/job-ticket.ts';
import { STORAGE_UNAVAILABLE_TEXT } from '../../../src/bots/shared/refusals.ts';
import { deliverFinalReply } from '../../../src/bots/shared/reply-retry.ts';
import { answerUnfinishedJobs } from '../../../src/bots/shared/restart-recovery.ts';
import { StorageGate } from '../../../src/bots/shared/storage-gate.ts';
import type { DeliveryLedger } from '../../../src/core/ports.ts';
import type { AnalysisOutcome } from '../../../src/core/records.ts';
import { createLogger } from '../../../src/log.ts';
import {
  MemoryDeliveryLedger,
  MemoryJobJournal,
  MemoryStorageMonitor,
  MemoryStore,
} from '../../support/twins.ts';

const log = createLogger('error', new Writable({ write: (_c, _e, done) => done() }));
const FAST = { attempts: 3, delaysMs: [1] };

describe('final reply policy (shared/reply-retry.ts)', () => {
  it('retries a failing edit and stops at the first success', async () => {
    let edits = 0;
    let replaced = 0;
    const outcome = await deliverFinalReply(
      {
        edit: async () => {
          if (++edits < 3) throw new Error('502');
        },
        replace: async () => void replaced++,
      },
      log,
      FAST,
    );
    expect([outcome, edits, replaced]).toEqual(['edited', 3, 0]);
  });

  it('replaces once after the last failed attempt, and at once on a permanent error', async () => {
    let edits = 0;
    let replaced = 0;
    const reply = {
      edit: async () => {
        edits++;
        throw new Error('gone');
      },
      replace: async () => void replaced++,
    };
    expect(await deliverFinalReply(reply, log, FAST)).toBe('replaced');
    expect([edits, replaced]).toEqual([3, 1]);
    expect(await deliverFinalReply({ ...reply, permanent: () => true }, log, FAST)).toBe('replaced');
    expect([edits, replaced]).toEqual([4, 2]);
  });

  it('says "lost" when the replacement fails too (never posts twice)', async () => {
    let posts = 0;
    const outcome = await deliverFinalReply(
      {
        edit: async () => Promise.reject(new Error('x')),
        replace: async () => {
          posts++;
          throw new Error('y');
        },
      },
      log,
      FAST,
    );
    expect([outcome, posts]).toEqual(['lost', 1]);
  });
});

describe('event de-duplication (shared/event-dedupe.ts)', () => {
  it('a redelivered id is dropped, also by a new instance on the same ledger (a restart)', async () => {
    const ledger = new MemoryDeliveryLedger();
    const a = new EventDedupe({ ledger, platform: 'slack', log });
    expect(await a.first('Ev1')).toBe(true);
    expect(await a.first('Ev1')).toBe(false);
    a.stop();
    const b = new EventDedupe({ ledger, platform: 'slack', log });
    expect(await b.first('Ev1')).toBe(false);
    expect(await b.first('Ev2')).toBe(true);
    b.stop();
  });

  it('ids are kept for a day, and expired ones are purged when an instance starts', async () => {
    const ledger = new MemoryDeliveryLedger();
    const old = new Date(Date.now() - EVENT_MEMORY_MS - 60_000);
    const a = new EventDedupe({ ledger, platform: 'slack', log });
    expect(await a.first('EvOld', old)).toBe(true);
    a.stop();
    expect(ledger.seen.size).toBe(1);
    const b = new EventDedupe({ ledger, platform: 'slack', log });
    await new Promise((r) => setTimeout(r, 10));
    expect(ledger.seen.size).toBe(0);
    expect(await b.first('EvOld')).toBe(true);
    b.stop();
  });

  it('a failing ledger does not drop the request (in-memory de-duplication still holds)', async () => {
    const broken: DeliveryLedger = {
      firstDelivery: async () => Promise.reject(new Error('database is locked')),
      purgeExpired: async () => Promise.reject(new Error('database is locked')),
    };
    const d = new EventDedupe({ ledger: broken, platform: 'slack', log });
    expect(await d.first('Ev1')).toBe(true);
    expect(await d.first('Ev1')).toBe(false);
    d.stop();
  });
});

describe('storage admission (shared/storage-gate.ts)', () => {
  it('refuses while lost, tells admins once per loss, and again after a recovery and a new loss', async () => {
    const monitor = new MemoryStorageMonitor();
    const told: string[] = [];
    const gate = new StorageGate({
      monitor,
      log,
      platform: 'slack',
      tellAdmins: async (t) => void told.push(t),
    });
    expect(gate.refusal()).toBeUndefined();
    monitor.set({ state: 'lost', detail: 'deleted', since: new Date() });
    monitor.set({ state: 'lost', detail: 'still deleted', since: new Date() });
    expect(gate.refusal()).toBe(STORAGE_UNAVAILABLE_TEXT);
    expect(told).toHaveLength(1);
    monitor.set({ state: 'ok' });
    expect(gate.refusal()).toBeUndefined();
    monitor.set({ state: 'lost', detail: 'read-only', since: new Date() });
    expect(told).toHaveLength(2);
    expect(told[1]).toMatch(/read-only/);
    gate.stop();
  });
});

describe('restart recovery (shared/restart-recovery.ts, shared/job-ticket.ts)', () => {
  it('answers each unfinished job once, with its stored result when there is one, and closes it even when answering fails', async () => {
    const jobs = new MemoryJobJournal();
    const store = new MemoryStore();
    const open = (reply: object) => openJob(jobs, { platform: 'slack', userId: 'U1', reply }, log);
    const a = await open({ n: 'a' });
    const b = await open({ n: 'b' });
    await open({ n: 'c' });
    const done = await open({ n: 'done' });
    await done.close();
    const stored = await store.save({
      platform: 'slack',
      durationS: 1,
      model: { id: 'm', version: '1' },
      createdAt: new Date(),
      outcome: { status: 'ok', segments: [] },
    });
    await b.analysed(stored.id);
    await a.reply({ n: 'a', ts: '1.0' });
    const seen: string[] = [];
    const answer = {
      parse: (r: unknown) => r as { n: string; ts?: string },
      answer: async (_job: unknown, h: { n: string; ts?: string } | undefined, s: unknown) => {
        if (h?.n === 'c') throw new Error('channel gone');
        seen.push(`${h?.n}:${h?.ts ?? '-'}:${s ? 'stored' : 'restart'}`);
      },
    };
    const deps = { jobs, store, log };
    expect(await answerUnfinishedJobs(await jobs.unfinished('slack'), deps, answer)).toEqual({
      answered: 2,
      failed: 1,
    });
    expect(seen).toEqual(['a:1.0:restart', 'b:-:stored']);
    expect(await jobs.unfinished('slack')).toHaveLength(0);
  });

  it('with a durable queue: waits for the result a worker stores under the job id and delivers it; the restart message only when the work died with the process or the queue gave up', async () => {
    const jobs = new MemoryJobJournal();
    const store = new MemoryStore();
    const open = (n: string) => openJob(jobs, { platform: 'slack', userId: 'U1', reply: { n } }, log);
    const result = (jobId: string, outcome: AnalysisOutcome = { status: 'ok', segments: [] }) =>
      store.save({
        platform: 'slack',
        jobId,
        durationS: 1,
        model: { id: 'm', version: '1' },
        createdAt: new Date(),
        outcome,
      });
    const inQueue = await open('in-queue'); // a worker is still on it
    const givenUp = await open('given-up'); // no worker stores anything before the queue's longest wait
    const storedUnrecorded = await open('stored'); // stored by id, the process died before recording it
    await open('never-queued'); // killed while downloading: the work died with it
    const expired = await open('expired');
    await inQueue.queued(new Date(Date.now() + 10_000));
    // Its first attempt's model failed: not the last word while the queue retries it.
    await result(String(inQueue.id), {
      status: 'failed',
      error: { code: 'inference.failed', message: 'the model failed' },
    });
    await givenUp.queued(new Date(Date.now() + 300));
    await expired.queued(new Date(Date.now() - 1));
    await result(String(storedUnrecorded.id));
    const seen: string[] = [];
    const answer = {
      parse: (r: unknown) => r as { n: string },
      answer: async (_job: unknown, h: { n: string } | undefined, s: unknown) => {
        seen.push(`${h?.n}:${s ? 'result' : 'restart'}`);
      },
    };
    const recovery = answerUnfinishedJobs(
      await jobs.unfinished('slack'),
      { jobs, store, log, pollMs: 20 },
      answer,
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual(['stored:result', 'never-queued:restart', 'expired:restart']);
    await result(String(inQueue.id)); // the worker finishes after the restart
    expect(await recovery).toEqual({ answered: 5, failed: 0 });
    expect(seen.slice(3)).toEqual(['in-queue:result', 'given-up:restart']);
    expect(await jobs.unfinished('slack')).toHaveLength(0);
  });
});
