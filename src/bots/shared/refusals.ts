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
    'It is refusing new recordings until it is restarted with a writable database (DATABASE_PATH). ' +
    'Results and settings written since may be lost; check the logs.'
  );
}
