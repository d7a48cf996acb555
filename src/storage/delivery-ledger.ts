import type { DeliveryLedger } from '../core/ports.ts';
import { AttachedStore, sqlite } from './database.ts';
import * as sql from './statements.ts';

/** Platform event ids already handled, in the deliveries table (migration 4), until they expire. */
export class SqliteDeliveryLedger extends AttachedStore implements DeliveryLedger {
  async firstDelivery(platform: string, eventId: string, expiresAt: Date): Promise<boolean> {
    // The primary key decides, inside one transaction: of two processes, exactly one inserts.
    return this.database.write(
      (db) =>
        Number(db.prepare(sqlite(sql.FIRST_DELIVERY)).run(platform, eventId, expiresAt.getTime()).changes) ===
        1,
    );
  }

  async purgeExpired(now: Date): Promise<number> {
    return this.database.write((db) =>
      Number(db.prepare(sqlite(sql.PURGE_DELIVERIES)).run(now.getTime()).changes),
    );
  }

  /** Closes the connection only when this ledger opened it. */
  async dispose(): Promise<void> {
    await this.closeIfOwned();
  }
}
