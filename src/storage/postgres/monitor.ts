import type { StorageHealth } from '../../core/ports.ts';
import type { Logger } from '../../log.ts';
import { PollingStorageMonitor } from '../health.ts';

export interface PgMonitorOptions {
  /** Resolves when the server answered a trivial query; rejects when it did not (within its own timeout). */
  readonly ping: () => Promise<void>;
  /** The server, password hidden, for the logs and the health detail. */
  readonly target: string;
  /** How long the server must stay unreachable before health is 'lost' (a restart of a few seconds is not). */
  readonly lostAfterMs: number;
  readonly logger?: Logger | undefined;
}

/**
 * Health of a Postgres server, by pinging it: 'lost' once it stayed unreachable for `lostAfterMs` (every
 * ping and every query that could not reach it in that time failed), 'ok' again at the first answer.
 * Unlike a deleted SQLite file a server comes back, so recovery needs no restart. Only reachability is
 * watched: a server that answers but refuses writes (disk full, read-only standby) shows as storage.failed
 * errors of the writes themselves, not here.
 */
export class PgStorageMonitor extends PollingStorageMonitor {
  readonly #options: PgMonitorOptions;
  #unreachableSince: number | undefined;
  #checking: Promise<StorageHealth> | undefined;

  constructor(options: PgMonitorOptions) {
    super(options.logger);
    this.#options = options;
  }

  /** One ping (shared by concurrent callers); resolves to the health after it. */
  check(): Promise<StorageHealth> {
    this.#checking ??= this.#options
      .ping()
      .then(
        () => this.reachable(),
        (error: unknown) => this.unreachable(error),
      )
      .then(() => this.health())
      .finally(() => {
        this.#checking = undefined;
      });
    return this.#checking;
  }

  /** The server answered (a ping or any query). */
  reachable(): void {
    this.#unreachableSince = undefined;
    if (this.health().state === 'ok') return;
    this.logger?.warn({ target: this.#options.target }, 'postgres is reachable again');
    this.set({ state: 'ok' });
  }

  /** The server could not be reached (a ping or a query): lost once that lasted `lostAfterMs`. */
  unreachable(error: unknown): void {
    const now = Date.now();
    this.#unreachableSince ??= now;
    if (this.health().state === 'lost' || now - this.#unreachableSince < this.#options.lostAfterMs) return;
    const reason = error instanceof Error ? error.message : String(error);
    const detail = `postgres ${this.#options.target} unreachable for ${Math.round((now - this.#unreachableSince) / 1000)} s: ${reason}`;
    this.logger?.error(
      { detail },
      `${detail}: results, settings and opt-outs cannot be stored until it answers again`,
    );
    this.set({ state: 'lost', detail, since: new Date(this.#unreachableSince) });
  }
}
