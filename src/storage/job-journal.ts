import { randomUUID } from 'node:crypto';
import type { JobJournal, JobRecord } from '../core/ports.ts';
import { AttachedStore, sqlite } from './database.ts';
import { type Row, toJob } from './rows.ts';
import * as sql from './statements.ts';

/** Accepted work in the jobs table (migration 4): written before the user is told "Listening…". */
export class SqliteJobJournal extends AttachedStore implements JobJournal {
  readonly #owner: string | null;

  /** `owner`: the gateway whose jobs this journal opens and lists (none: the jobs of no named gateway). */
  constructor(database: ConstructorParameters<typeof AttachedStore>[0], owner?: string) {
    super(database);
    this.#owner = owner ?? null;
  }

  async open(job: Parameters<JobJournal['open']>[0]): Promise<string> {
    const id = randomUUID();
    await this.database.write((db) =>
      db
        .prepare(sqlite(sql.OPEN_JOB))
        .run(id, job.platform, job.userId, job.reply, job.createdAt.getTime(), this.#owner),
    );
    return id;
  }

  async setReply(id: string, reply: string): Promise<void> {
    await this.database.write((db) => db.prepare(sqlite(sql.SET_JOB_REPLY)).run(reply, id));
  }

  async setAnalysis(id: string, analysisId: string): Promise<void> {
    await this.database.write((db) => db.prepare(sqlite(sql.SET_JOB_ANALYSIS)).run(analysisId, id));
  }

  async queued(id: string, until: Date): Promise<void> {
    await this.database.write((db) => db.prepare(sqlite(sql.SET_JOB_QUEUED)).run(until.getTime(), id));
  }

  async close(id: string): Promise<void> {
    await this.database.write((db) => db.prepare(sqlite(sql.CLOSE_JOB)).run(Date.now(), id));
  }

  async unfinished(platform: string): Promise<JobRecord[]> {
    const rows = await this.database.read(
      (db) => db.prepare(sqlite(sql.unfinishedJobs('rowid'))).all(platform, this.#owner) as Row[],
    );
    return rows.map(toJob);
  }

  /** Closes the connection only when this journal opened it. */
  async dispose(): Promise<void> {
    await this.closeIfOwned();
  }
}
