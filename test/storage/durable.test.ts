import { describe, expect, it } from 'vitest';
import {
  type DiscordSharding,
  journalPlatform,
  recoveredJournalPlatforms,
} from '../../src/bots/discord/shards.ts';
import type { DeliveryLedger, JobJournal } from '../../src/core/ports.ts';
import type { OpenedStorage } from '../../src/storage/storage.ts';
import { MemoryDeliveryLedger, MemoryJobJournal } from '../support/twins.ts';
import { BACKENDS, type BackendEnv, title, useBackend } from './backends.ts';

/** A fresh store, and a way to get it again as a restarted process would (the same database reopened). */
interface Subject<T> {
  readonly first: T;
  reopen(): Promise<T>;
  close(): Promise<void>;
}

function stored<T>(env: BackendEnv, pick: (storage: OpenedStorage) => T): () => Promise<Subject<T>> {
  return async () => {
    const location = await env.fresh();
    let storage = await env.open(location);
    return {
      first: pick(storage),
      async reopen() {
        await storage.close();
        storage = await env.open(location);
        return pick(storage);
      },
      close: () => storage.close(),
    };
  };
}

function memory<T>(make: () => T): () => Promise<Subject<T>> {
  return async () => {
    const store = make();
    return { first: store, reopen: async () => store, close: async () => undefined };
  };
}

const t = (s: number) => new Date(Date.UTC(2026, 11, 2, 12, 0, s));

function journalSuite(name: string, make: () => Promise<Subject<JobJournal>>) {
  describe(name, () => {
    it('keeps open jobs with their latest reply and analysis across a restart, oldest first, until closed', async () => {
      const subject = await make();
      const jobs = subject.first;
      const b = await jobs.open({ platform: 'slack', userId: 'U2', reply: '{"ts":"2"}', createdAt: t(2) });
      const a = await jobs.open({ platform: 'slack', userId: 'U1', reply: '{"ts":"1"}', createdAt: t(1) });
      const done = await jobs.open({ platform: 'slack', userId: 'U3', reply: '{}', createdAt: t(3) });
      const other = await jobs.open({ platform: 'discord', userId: 'D1', reply: '{}', createdAt: t(0) });
      expect(new Set([a, b, done, other]).size).toBe(4);
      await jobs.setReply(b, '{"ts":"2b"}');
      await jobs.setAnalysis(b, 'analysis-1');
      await jobs.queued(b, t(90));
      await jobs.close(done);

      const restarted = await subject.reopen();
      expect(await restarted.unfinished('slack')).toEqual([
        {
          id: a,
          platform: 'slack',
          userId: 'U1',
          reply: '{"ts":"1"}',
          analysisId: null,
          queuedUntil: null,
          createdAt: t(1),
        },
        {
          id: b,
          platform: 'slack',
          userId: 'U2',
          reply: '{"ts":"2b"}',
          analysisId: 'analysis-1',
          queuedUntil: t(90),
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

function ledgerSuite(name: string, make: () => Promise<Subject<DeliveryLedger>>) {
  describe(name, () => {
    it('says first once per platform and event, also after a restart, until the record expires and is purged', async () => {
      const subject = await make();
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

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip)(title(backend, 'JobJournal and DeliveryLedger (migration 4)'), () => {
    const env = useBackend(backend);
    journalSuite(
      'JobJournal',
      stored(env, (s) => s.jobs),
    );
    ledgerSuite(
      'DeliveryLedger',
      stored(env, (s) => s.deliveries),
    );

    it('two gateways on one database each list only their own unfinished jobs (and jobs from before owners), also after a restart', async () => {
      const location = await env.fresh();
      await env.migrateTo(location, 4);
      await env.exec(
        location,
        `INSERT INTO jobs (id, platform, user_id, reply, created_at) VALUES ('legacy', 'slack', 'U0', '{}', 0)`,
      );
      const one = (await env.open(location, { owner: 'gateway-1' })).jobs;
      const two = (await env.open(location, { owner: 'gateway-2' })).jobs;
      const mine = await one.open({ platform: 'slack', userId: 'U1', reply: '{}', createdAt: t(1) });
      const theirs = await two.open({ platform: 'slack', userId: 'U2', reply: '{}', createdAt: t(2) });
      const restarted = (await env.open(location, { owner: 'gateway-1' })).jobs;
      expect((await restarted.unfinished('slack')).map((j) => j.id)).toEqual(['legacy', mine]);
      expect((await two.unfinished('slack')).map((j) => j.id)).toEqual(['legacy', theirs]);
    });

    it("the shard processes of one machine share its owner, yet a restarted shard lists only its own shard's jobs (shard 0 also the unsharded process's), never another machine's", async () => {
      const location = await env.fresh();
      const shard = (id: number): DiscordSharding => ({ kind: 'shard', id, count: 2 });
      const machine = (await env.open(location, { owner: 'host-a' })).jobs;
      const other = (await env.open(location, { owner: 'host-b' })).jobs;
      const open = (journal: JobJournal, sharding: DiscordSharding, s: number) =>
        journal.open({ platform: journalPlatform(sharding), userId: `U${s}`, reply: '{}', createdAt: t(s) });
      const unsharded = await open(machine, { kind: 'single' }, 0);
      const zero = await open(machine, shard(0), 1);
      const one = await open(machine, shard(1), 2);
      await open(other, shard(1), 3);
      const restarted = (await env.open(location, { owner: 'host-a' })).jobs;
      const recovered = async (sharding: DiscordSharding) =>
        (await Promise.all(recoveredJournalPlatforms(sharding).map((k) => restarted.unfinished(k))))
          .flat()
          .map((j) => j.id);
      expect(await recovered(shard(1))).toEqual([one]);
      expect(await recovered(shard(0))).toEqual([zero, unsharded]);
    });

    it('two connections to one database (as two processes have): a delivery recorded by one is a redelivery for the other', async () => {
      const location = await env.fresh();
      const one = await env.open(location);
      const two = await env.open(location);
      const results = await Promise.all([
        one.deliveries.firstDelivery('slack', 'Ev9', t(60)),
        two.deliveries.firstDelivery('slack', 'Ev9', t(60)),
      ]);
      expect(results.sort()).toEqual([false, true]);
    });
  });
}

describe('in-memory twins', () => {
  journalSuite(
    'MemoryJobJournal twin',
    memory(() => new MemoryJobJournal()),
  );
  ledgerSuite(
    'MemoryDeliveryLedger twin',
    memory(() => new MemoryDeliveryLedger()),
  );
});
