import { stat } from 'node:fs/promises';
import type { StorageHealth } from '../core/ports.ts';
import type { Logger } from '../log.ts';
import { PollingStorageMonitor } from './health.ts';

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
export class FileStorageMonitor extends PollingStorageMonitor {
  readonly #file: OpenedFile | undefined;

  /** `file` undefined (an in-memory database) is never lost. */
  constructor(file: OpenedFile | undefined, logger?: Logger) {
    super(logger);
    this.#file = file;
  }

  /** Checks every `intervalMs` (not at all for an in-memory database) without keeping the process alive. */
  override start(intervalMs: number): void {
    if (this.#file) super.start(intervalMs);
  }

  /** Compares the path's inode with the opened one (an async stat: never blocks the event loop). */
  async check(): Promise<StorageHealth> {
    const file = this.#file;
    if (!file || this.health().state === 'lost') return this.health();
    let now: { dev: number; ino: number };
    try {
      now = await stat(file.path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') this.markLost(`database file ${file.path} was deleted`);
      // Other stat errors (EACCES on a parent, EIO) say nothing certain about the file: the next write tells.
      return this.health();
    }
    if (now.dev !== file.dev || now.ino !== file.ino)
      this.markLost(`database file ${file.path} was replaced by another file`);
    return this.health();
  }

  /** Storage is gone for good (deleted, replaced, became read-only): says so loudly, once. */
  markLost(detail: string): void {
    if (this.health().state === 'lost') return;
    this.stop();
    this.logger?.error(
      { detail },
      `${detail}: results, settings and opt-outs can no longer be stored; restart after restoring it`,
    );
    this.set({ state: 'lost', detail, since: new Date() });
  }
}
