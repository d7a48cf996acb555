import type { StorageHealth, StorageMonitor } from '../../core/ports.ts';
import type { Logger } from '../../log.ts';
import { STORAGE_UNAVAILABLE_TEXT, storageLostAdminText } from './refusals.ts';

/**
 * Admission by storage health: while the database is lost (deleted, replaced, read-only), new work is
 * refused with the storage.unavailable message instead of being analysed and silently not stored. Each time
 * storage is lost, the logs say so at error level and admins are told once (how is the adapter's choice:
 * `tellAdmins`); a recovery re-arms the notice for the next loss.
 */
export class StorageGate {
  readonly #monitor: StorageMonitor | undefined;
  readonly #log: Logger;
  readonly #platform: string;
  readonly #tellAdmins: (text: string) => Promise<void>;
  readonly #unsubscribe: () => void;
  #told = false;

  constructor(options: {
    readonly monitor: StorageMonitor | undefined;
    readonly log: Logger;
    readonly platform: string;
    readonly tellAdmins: (text: string) => Promise<void>;
  }) {
    this.#monitor = options.monitor;
    this.#log = options.log;
    this.#platform = options.platform;
    this.#tellAdmins = options.tellAdmins;
    this.#unsubscribe = this.#monitor?.onChange((h) => this.#changed(h)) ?? (() => undefined);
  }

  /** Checks the health now (e.g. once started, to tell admins of a loss seen before the bot connected). */
  check(): void {
    if (this.#monitor) this.#changed(this.#monitor.health());
  }

  /** Undefined when new work may be accepted; else the text to refuse it with. */
  refusal(): string | undefined {
    return this.#monitor?.health().state === 'lost' ? STORAGE_UNAVAILABLE_TEXT : undefined;
  }

  stop(): void {
    this.#unsubscribe();
  }

  #changed(health: StorageHealth): void {
    if (health.state === 'ok') {
      if (this.#told) this.#log.warn('storage is back: accepting new work again');
      this.#told = false;
      return;
    }
    if (this.#told) return;
    this.#told = true;
    this.#log.error(
      { detail: health.detail, since: health.since.toISOString() },
      'STORAGE LOST: results cannot be stored; refusing new work until the database can be written again',
    );
    this.#tellAdmins(storageLostAdminText(this.#platform, health.detail)).catch((error: unknown) =>
      this.#log.error({ err: String(error) }, 'could not tell the admins that storage is lost'),
    );
  }
}
