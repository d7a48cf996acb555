import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeliveryLedger, JobJournal } from '../../src/core/ports.ts';
import { Database } from '../../src/storage/database.ts';
import { SqliteDeliveryLedger } from '../../src/storage/delivery-ledger.ts';
import { SqliteJobJournal } from '../../src/storage/job-journal.ts';
import { MemoryDeliveryLedger, MemoryJobJournal } from '../support/twins.ts';

const dir = mkdtempSync(join(tmpdir(), 'annamalai-durable-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh store, and a way to get it again as a restarted process would (the same file reopened). */
interface Subject<T> {
  readonly first: T;
  reopen(): Promise<T>;
  close(): Promise<void>;
}

function sqlite<T>(make: (database: Database) => T): () => Subject<T> {
  return () => {
    const path = join(dir, `${Math.random()}.db`);
    let database = Database.open({ path });
    return {
      first: make(database),
      async reopen() {
        await database.close();
        database = Database.open({ path });
        return make(database);
      },
      close: () => database.close(),
    };
  };
}

function memory<T>(make: () => T): () => Subject<T> {
  return () => {
    const store = make();
    return { first: store, reopen: async () => store, close: async () => undefined };
  };
}

const t = (s: number) => new Date(Date.UTC(2026, 11, 2, 12, 0, s));

for (const [name, make] of [
  ['SqliteJobJournal (migration 4)', sqlite((db) => new SqliteJobJournal(db))],
  ['MemoryJobJournal twin', memory(() => new MemoryJobJournal())],
] as [string, () => Subject<JobJournal>][]) {
  describe(name, () => {
    it('keeps open jobs with their latest reply and analysis across a restart, oldest first, until closed', async () => {
      const subject = make();
      const jobs = subject.first;
      const b = await jobs.open({ platform: 'slack', userId: 'U2', reply: '{"ts":"2"}', createdAt: t(2) });
      const a = await jobs.open({ platform: 'slack', userId: 'U1', reply: '{"ts":"1"}', createdAt: t(1) });
      const done = await jobs.open({ platform: 'slack', userId: 'U3', reply: '{}', createdAt: t(3) });
      const other = await jobs.open({ platform: 'discord', userId: 'D1', reply: '{}', createdAt: t(0) });
      expect(new Set([a, b, done, other]).size).toBe(4);
      await jobs.setReply(b, '{"ts":"2b"}');
      await jobs.setAnalysis(b, 'analysis-1');
      await jobs.close(done);

      const restarted = await subject.reopen();
      expect(await restarted.unfinished('slack')).toEqual([
        { id: a, platform: 'slack', userId: 'U1', reply: '{"ts":"1"}', analysisId: null, createdAt: t(1) },
        {
          id: b,
          platform: 'slack',
          userId: 'U2',
          reply: '{"ts":"2b"}',
          analysisId: 'analysis-1',
          createdAt: t(2),
        },
      ]);
      await restarted.close(a);
      await restarted.close(a);
      await restarted.close('no-such-job');
      expect((await restarted.unfinished('slack')).map((j) => j.id)).toEqual([b]);
      expect((await restarted.unfinished('discord')).map((j) => j.id)).toEqual([other]);
      await subject.close();
    });
  });
}

for (const [name, make] of [
  ['SqliteDeliveryLedger (migration 4)', sqlite((db) => new SqliteDeliveryLedger(db))],
  ['MemoryDeliveryLedger twin', memory(() => new MemoryDeliveryLedger())],
] as [string, () => Subject<DeliveryLedger>][]) {
  describe(name, () => {
    it('says first once per platform and event, also after a restart, until the record expires and is purged', async () => {
      const subject = make();
      const ledger = subject.first;
      expect(await ledger.firstDelivery('slack', 'Ev1', t(60))).toBe(true);
      expect(await ledger.firstDelivery('slack', 'Ev1', t(60))).toBe(false);
      expect(await ledger.firstDelivery('discord', 'Ev1', t(60))).toBe(true);
      expect(await ledger.firstDelivery('slack', 'Ev2', t(10))).toBe(true);

      const restarted = await subject.reopen();
      expect(await restarted.firstDelivery('slack', 'Ev1', t(60))).toBe(false);
      expect(await restarted.purgeExpired(t(30))).toBe(1);
      expect(await restarted.firstDelivery('slack', 'Ev2', t(90))).toBe(true);
      expect(await restarted.firstDelivery('slack', 'Ev1', t(90))).toBe(false);
      await subject.close();
    });
  });
}

it('two connections to one file (as two processes have): a delivery recorded by one is a redelivery for the other', async () => {
  const path = join(dir, 'shared.db');
  const one = Database.open({ path });
  const two = Database.open({ path });
  const a = new SqliteDeliveryLedger(one);
  const b = new SqliteDeliveryLedger(two);
  const results = await Promise.all([
    a.firstDelivery('slack', 'Ev9', t(60)),
    b.firstDelivery('slack', 'Ev9', t(60)),
  ]);
  expect(results.sort()).toEqual([false, true]);
  await one.close();
  await two.close();
});
