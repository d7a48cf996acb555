import { ERROR_CODES } from '../../core/errors.ts';

/** Texts every adapter says the same way when it cannot do (or finish) the work. One place, both platforms. */

/** The waiting reply of work a killed process accepted but never finished (answered after the restart). */
export const RESTARTED_TEXT = 'I restarted before I could finish; please send it again.';

/** New work refused while results cannot be stored (the database vanished, was replaced, became read-only). */
export const STORAGE_UNAVAILABLE_TEXT = ERROR_CODES['storage.unavailable'];

/** What admins are told, once, when storage is lost. */
export function storageLostAdminText(platform: string, detail: string): string {
  return (
    `⚠️ Annamalai (${platform}) lost its database: ${detail}. ` +
    'It refuses new recordings until the database can be written again (a deleted or replaced SQLite file ' +
    'needs a restart once it is restored; a Postgres server that answers again is picked up by itself). ' +
    'Results and settings written since may be lost; check the logs.'
  );
}
