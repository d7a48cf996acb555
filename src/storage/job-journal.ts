import { randomUUID } from 'node:crypto';
import type { JobJournal, JobRecord } from '../core/ports.ts';
import { AttachedStore } from './database.ts';
import { type Row, toJob } from './rows.ts';

/** Accepted work in the jobs table (migration 4): written before the user is told "Listening…". */
export class SqliteJobJournal extends AttachedStore implements JobJournal {
  async open(job: Parameters<JobJournal['open']>[0]): Promise<string> {
    const id = randomUUID();
    await this.database.write((db) =>
      db
        .prepare('INSERT INTO jobs (id, platform, user_id, reply, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(id, job.platform, job.userId, job.reply, job.createdAt.getTime()),
    );
    return id;
  }

  async setReply(id: string, reply: string): Promise<void> {
    await this.database.write((db) => db.prepare('UPDATE jobs SET reply = ? WHERE id = ?').run(reply, id));
  }

  async setAnalysis(id: string, analysisId: string): Promise<void> {
    await this.database.write((db) =>
      db.prepare('UPDATE jobs SET analysis_id = ? WHERE id = ?').run(analysisId, id),
    );
  }

  async close(id: string): Promise<void> {
    await this.database.write((db) =>
      db.prepare('UPDATE jobs SET closed_at = ? WHERE id = ? AND closed_at IS NULL').run(Date.now(), id),
    );
  }

  async unfinished(platform: string): Promise<JobRecord[]> {
    const rows = await this.database.read(
      (db) =>
        db
          .prepare('SELECT * FROM jobs WHERE platform = ? AND closed_at IS NULL ORDER BY created_at, rowid')
          .all(platform) as Row[],
    );
    return rows.map(toJob);
  }

  /** Closes the connection only when this journal opened it. */
  async dispose(): Promise<void> {
    await this.closeIfOwned();
  }
}
