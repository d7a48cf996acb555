import type { StorageHealth, StorageMonitor } from '../core/ports.ts';
import type { Logger } from '../log.ts';

/**
 * What every backend's storage monitor shares: the current health, its listeners, and a periodic check
 * that never keeps the process alive. A backend says how to check (`check`) and when health changes (`set`).
 */
export abstract class PollingStorageMonitor implements StorageMonitor {
  protected readonly logger: Logger | undefined;
  readonly #listeners = new Set<(health: StorageHealth) => void>();
  #health: StorageHealth = { state: 'ok' };
  #timer: NodeJS.Timeout | undefined;

  constructor(logger: Logger | undefined) {
    this.logger = logger;
  }

  /** Looks at the storage now; resolves to the health after it. */
  abstract check(): Promise<StorageHealth>;

  health(): StorageHealth {
    return this.#health;
  }

  onChange(listener: (health: StorageHealth) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Checks every `intervalMs` without keeping the process alive. */
  start(intervalMs: number): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.check(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Health changed: every listener is told once; one that throws is logged and the others still run. */
  protected set(health: StorageHealth): void {
    this.#health = health;
    for (const listener of this.#listeners) {
      try {
        listener(health);
      } catch (error) {
        this.logger?.error({ err: error }, 'storage health listener failed');
      }
    }
  }
}
