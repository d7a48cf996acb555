import type { DeliveryLedger } from '../../core/ports.ts';
import type { Logger } from '../../log.ts';

/** How long a handled event id is remembered: platforms redeliver within minutes to hours, never a day later. */
export const EVENT_MEMORY_MS = 24 * 3600_000;
const PURGE_EVERY_MS = 3600_000;
/** Ids also kept in memory, to drop redeliveries that arrive while the first is still being recorded. */
const RECENT_MAX = 5_000;

/**
 * Drops platform events already handled — Slack redelivers one whose ack it did not see (a dropped socket,
 * a slow HTTP answer), also after our restart — so a clip is never analysed, stored and answered twice.
 * Ids are kept in the delivery ledger (the database) for a day and purged hourly; without a ledger, or when
 * it fails, the in-memory set still covers redeliveries within this process (better one duplicate than a
 * lost request).
 */
export class EventDedupe {
  readonly #ledger: DeliveryLedger | undefined;
  readonly #platform: string;
  readonly #log: Logger;
  readonly #recent = new Set<string>();
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(options: { ledger: DeliveryLedger | undefined; platform: string; log: Logger }) {
    this.#ledger = options.ledger;
    this.#platform = options.platform;
    this.#log = options.log;
    if (this.#ledger) {
      this.#purge();
      this.#timer = setInterval(() => this.#purge(), PURGE_EVERY_MS);
      this.#timer.unref();
    }
  }

  /** True the first time this event id is seen (here or by an earlier run on the same database). */
  async first(eventId: string, now: Date = new Date()): Promise<boolean> {
    if (this.#recent.has(eventId)) return false;
    this.#recent.add(eventId);
    if (this.#recent.size > RECENT_MAX) {
      const oldest = this.#recent.values().next().value;
      if (oldest !== undefined) this.#recent.delete(oldest);
    }
    if (!this.#ledger) return true;
    try {
      return await this.#ledger.firstDelivery(
        this.#platform,
        eventId,
        new Date(now.getTime() + EVENT_MEMORY_MS),
      );
    } catch (error) {
      this.#log.warn({ err: String(error), eventId }, 'delivery ledger unavailable; handling the event');
      return true;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #purge(): void {
    this.#ledger
      ?.purgeExpired(new Date())
      .then((n) => n > 0 && this.#log.debug({ purged: n }, 'expired event ids purged'))
      .catch((error: unknown) => this.#log.warn({ err: String(error) }, 'could not purge expired event ids'));
  }
}
