import { randomUUID } from 'node:crypto';
import type { DeliveryLedger, JobJournal, JobRecord } from '../../core/ports.ts';
import { toJob } from '../rows.ts';
import * as sql from '../statements.ts';
import type { PgDatabase } from './database.ts';

/** Accepted work in Postgres (the jobs table of migration 4): written before the user is told "Listening…". */
export class PgJobJournal implements JobJournal {
  readonly #db: PgDatabase;
  readonly #owner: string | null;

  /** `owner`: the gateway whose jobs this journal opens and lists (none: the jobs of no named gateway). */
  constructor(db: PgDatabase, owner?: string) {
    this.#db = db;
    this.#owner = owner ?? null;
  }

  async open(job: Parameters<JobJournal['open']>[0]): Promise<string> {
    const id = randomUUID();
    await this.#db.query(sql.OPEN_JOB, [
      id,
      job.platform,
      job.userId,
      job.reply,
      job.createdAt.getTime(),
      this.#owner,
    ]);
    return id;
  }

  async setReply(id: string, reply: string): Promise<void> {
    await this.#db.query(sql.SET_JOB_REPLY, [reply, id]);
  }

  async setAnalysis(id: string, analysisId: string): Promise<void> {
    await this.#db.query(sql.SET_JOB_ANALYSIS, [analysisId, id]);
  }

  async queued(id: string, until: Date): Promise<void> {
    await this.#db.query(sql.SET_JOB_QUEUED, [until.getTime(), id]);
  }

  async close(id: string): Promise<void> {
    await this.#db.query(sql.CLOSE_JOB, [Date.now(), id]);
  }

  async unfinished(platform: string): Promise<JobRecord[]> {
    const { rows } = await this.#db.query(sql.unfinishedJobs('seq'), [platform, this.#owner]);
    return rows.map(toJob);
  }
}

/** Platform event ids already handled, in Postgres (the deliveries table of migration 4), until they expire. */
export class PgDeliveryLedger implements DeliveryLedger {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async firstDelivery(platform: string, eventId: string, expiresAt: Date): Promise<boolean> {
    // The primary key decides: of two processes inserting at once, the second waits, then inserts nothing.
    const { rowCount } = await this.#db.query(sql.FIRST_DELIVERY, [platform, eventId, expiresAt.getTime()]);
    return rowCount === 1;
  }

  async purgeExpired(now: Date): Promise<number> {
    const { rowCount } = await this.#db.query(sql.PURGE_DELIVERIES, [now.getTime()]);
    return rowCount;
  }
}
