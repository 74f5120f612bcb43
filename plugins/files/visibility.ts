/**
 * Who sees a stored file, and what they see of it: shared by the files plugin's announcements, lists,
 * downloads and deletions.
 */
import type { Session } from '../../core/session.js';
import type { FileInfo } from './protocol.js';
import type { StoredFile } from './store.js';

/**
 * A file is visible to everyone in its room, or only to its sender and recipient when it was targeted: by
 * session id, or by name, so a recipient who left (or whose client joined again after a restart) still
 * finds it under the same name.
 */
export function isVisible(file: StoredFile, session: Session): boolean {
  if (!file.to) return true;
  return [file.to, file.from].some((party) => party.id === session.id || party.name === session.name);
}

/** The file as clients see it (without the room). */
export function publicInfo(file: StoredFile): FileInfo {
  const { room: _room, ...info } = file;
  return info;
}
