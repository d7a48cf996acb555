import { randomUUID } from 'node:crypto';
import type { DeliveryLedger, JobJournal, JobRecord } from '../../core/ports.ts';
import { toJob } from '../rows.ts';
import type { PgDatabase } from './database.ts';

/** Accepted work in Postgres (the jobs table of migration 4): written before the user is told "Listening…". */
export class PgJobJournal implements JobJournal {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async open(job: Parameters<JobJournal['open']>[0]): Promise<string> {
    const id = randomUUID();
    await this.#db.query(
      'INSERT INTO jobs (id, platform, user_id, reply, created_at) VALUES ($1, $2, $3, $4, $5)',
      [id, job.platform, job.userId, job.reply, job.createdAt.getTime()],
    );
    return id;
  }

  async setReply(id: string, reply: string): Promise<void> {
    await this.#db.query('UPDATE jobs SET reply = $1 WHERE id = $2', [reply, id]);
  }

  async setAnalysis(id: string, analysisId: string): Promise<void> {
    await this.#db.query('UPDATE jobs SET analysis_id = $1 WHERE id = $2', [analysisId, id]);
  }

  async close(id: string): Promise<void> {
    await this.#db.query('UPDATE jobs SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL', [
      Date.now(),
      id,
    ]);
  }

  async unfinished(platform: string): Promise<JobRecord[]> {
    const { rows } = await this.#db.query(
      'SELECT * FROM jobs WHERE platform = $1 AND closed_at IS NULL ORDER BY created_at, seq',
      [platform],
    );
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
    const { rowCount } = await this.#db.query(
      'INSERT INTO deliveries VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1',
      [platform, eventId, expiresAt.getTime()],
    );
    return rowCount === 1;
  }

  async purgeExpired(now: Date): Promise<number> {
    const { rowCount } = await this.#db.query('DELETE FROM deliveries WHERE expires_at < $1', [
      now.getTime(),
    ]);
    return rowCount;
  }
}
