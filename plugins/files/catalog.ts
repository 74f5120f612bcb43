/**
 * The files plugin's stored files as the room sees them: who may see which file, the `list` and `delete`
 * ops, the announcement of a new file, and expiry. Every member who can see a file hears of its arrival
 * and of its removal; nobody else learns it exists.
 */
import type { Session } from '../../core/session.js';
import { FILES_ERRORS, type FilesMessage, type FilesRequest } from './protocol.js';
import type { FilesServerContext } from './server-context.js';
import { storageError } from './server-errors.js';
import type { StoredFile } from './store.js';
import { isVisible, publicInfo } from './visibility.js';

/** A request of the ops this file handles. */
type CatalogRequest<Op extends 'list' | 'delete'> = Extract<FilesRequest, { op: Op }>;

/** The stored files of one server, as its rooms see them. */
export class Catalog {
  readonly #files: FilesServerContext;

  constructor(files: FilesServerContext) {
    this.#files = files;
  }

  /** The stored file `id` if the session may see it (in its room, and its own or shared with it); FILES_NO_SUCH_FILE otherwise. */
  visibleFile(id: string, session: Session): StoredFile {
    const file = this.#files.store.get(id);
    if (!file || file.room !== session.room.name || !isVisible(file, session)) {
      throw FILES_ERRORS.FILES_NO_SUCH_FILE({ message: `no file "${id}" is visible to you in this room` });
    }
    return file;
  }

  /** Answers `list`: the files of the session's room it may see, oldest first. */
  list(session: Session, request: CatalogRequest<'list'>): void {
    const visible = this.#files.store.list(session.room.name).filter((file) => isVisible(file, session)).map(publicInfo);
    this.#files.control.send(session, { op: 'list', ref: request.ref, files: visible });
  }

  /** Takes `delete`: the file's sender (or a moderator) removes it for everyone who could see it. */
  delete(session: Session, request: CatalogRequest<'delete'>): void {
    const file = this.visibleFile(request.id, session);
    if (file.from.id !== session.id && !session.grants.has('moderate')) throw FILES_ERRORS.FILES_NOT_ALLOWED();
    void this.#remove(file, 'deleted', session, request.ref);
  }

  /** Tells the members of the file's room who may see it, but its sender, that it was stored. */
  announce(file: StoredFile, sender: Session): void {
    const room = this.#files.ctx.room(file.room);
    if (!room) return;
    const message: FilesMessage = { op: 'file', file: publicInfo(file) };
    for (const member of room.sessions) {
      if (member !== sender && isVisible(file, member)) this.#files.control.send(member, message);
    }
  }

  /** Removes the files stored before `time` (ms since the epoch), telling everyone who could see them. */
  expire(time: number): void {
    for (const file of this.#files.store.olderThan(time)) void this.#remove(file, 'expired');
  }

  /**
   * Deletes a file and tells everyone who could see it (the requester with its ref). A store that cannot
   * take the deletion (a full disk) leaves the file in place; the requester is told STORE_WRITE_FAILED.
   */
  async #remove(file: StoredFile, why: 'deleted' | 'expired', requester?: Session, ref?: string): Promise<void> {
    const { ctx, store, control, hooks } = this.#files;
    try {
      await store.remove(file.id);
    } catch (error) {
      ctx.log.warn('file not removed', { id: file.id, why, error: String(error) });
      const failure = storageError(error);
      failure.channel = control.name;
      failure.ref = ref;
      if (requester && requester.state !== 'closed') requester.sendError(failure);
      return;
    }
    hooks.removed.call(publicInfo(file), why);
    const room = ctx.room(file.room);
    if (!room) return;
    for (const member of room.sessions) {
      if (!isVisible(file, member)) continue;
      control.send(member, member === requester ? { op: 'removed', id: file.id, ref } : { op: 'removed', id: file.id });
    }
  }
}
