import { stat } from 'node:fs/promises';
import type { StorageHealth, StorageMonitor } from '../core/ports.ts';
import type { Logger } from '../log.ts';

/** The file a connection opened: the path and the inode behind it at open. */
export interface OpenedFile {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
}

/**
 * Watches that the database path still names the file the connection has open. SQLite keeps writing into
 * an unlinked file without an error, so a deleted or replaced database would otherwise lose every write
 * silently at the next restart. Once lost, health stays lost until the process restarts on a restored file.
 */
export class FileStorageMonitor implements StorageMonitor {
  readonly #file: OpenedFile | undefined;
  readonly #logger: Logger | undefined;
  readonly #listeners = new Set<(health: StorageHealth) => void>();
  #health: StorageHealth = { state: 'ok' };
  #timer: NodeJS.Timeout | undefined;

  /** `file` undefined (an in-memory database) is never lost. */
  constructor(file: OpenedFile | undefined, logger?: Logger) {
    this.#file = file;
    this.#logger = logger;
  }

  health(): StorageHealth {
    return this.#health;
  }

  onChange(listener: (health: StorageHealth) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Checks every `intervalMs` without keeping the process alive. */
  start(intervalMs: number): void {
    if (!this.#file || this.#timer) return;
    this.#timer = setInterval(() => void this.check(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Compares the path's inode with the opened one (an async stat: never blocks the event loop). */
  async check(): Promise<StorageHealth> {
    const file = this.#file;
    if (!file || this.#health.state === 'lost') return this.#health;
    let now: { dev: number; ino: number };
    try {
      now = await stat(file.path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') this.markLost(`database file ${file.path} was deleted`);
      // Other stat errors (EACCES on a parent, EIO) say nothing certain about the file: the next write tells.
      return this.#health;
    }
    if (now.dev !== file.dev || now.ino !== file.ino)
      this.markLost(`database file ${file.path} was replaced by another file`);
    return this.#health;
  }

  /** Storage is gone for good (deleted, replaced, became read-only): says so loudly, once. */
  markLost(detail: string): void {
    if (this.#health.state === 'lost') return;
    this.#health = { state: 'lost', detail, since: new Date() };
    this.stop();
    this.#logger?.error(
      { detail },
      `${detail}: results, settings and opt-outs can no longer be stored; restart after restoring it`,
    );
    for (const listener of this.#listeners) {
      try {
        listener(this.#health);
      } catch (error) {
        this.#logger?.error({ err: error }, 'storage health listener failed');
      }
    }
  }
}
