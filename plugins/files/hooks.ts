/**
 * The files plugin's own hooks, for other plugins (audit logs, virus scanners, dashboards): one set per
 * server, found from anything that has the server's hooks (a plugin's `ctx`, the `ConfabServer`), as webpack's
 * `getCompilationHooks(compilation)` are. Two servers that share one `files()` plugin object never share hooks.
 *
 * @example
 *   setup(ctx) {
 *     getFilesHooks(ctx).stored.tap('audit', (file) => ctx.log.info(`${file.from.name} shared ${file.name}`));
 *   }
 */
import { SyncHook } from 'tapable';
import type { ConfabError } from '../../core/errors.js';
import type { ServerHooks } from '../../core/hooks.js';
import type { Room } from '../../core/room.js';
import type { Session } from '../../core/session.js';
import type { FileInfo } from './protocol.js';

/** A transfer's progress, as the `progress` hook reports it. */
export interface TransferProgress {
  direction: 'upload' | 'download';
  transfer: number;
  session: Session;
  /** The file's (clean) name. */
  name: string;
  /** Bytes confirmed: written to the temporary file (upload) or by the receiver (download). */
  bytes: number;
  total: number;
}

/** The files plugin's own hooks, for other plugins (audit logs, virus scanners, dashboards). */
export interface FilesHooks {
  /** A chunk of a transfer was confirmed. Called often: keep taps cheap. */
  readonly progress: SyncHook<[TransferProgress]>;
  /** A file was verified and stored, before it is announced. */
  readonly stored: SyncHook<[FileInfo, Room | undefined]>;
  /** A stored file was deleted or expired. */
  readonly removed: SyncHook<[FileInfo, 'deleted' | 'expired']>;
  /** A transfer ended without completing: refused, cancelled, its session left, or the disk failed. */
  readonly failed: SyncHook<[TransferProgress, ConfabError]>;
}

/** The hooks of each server, by its hooks object (so they go with the server). */
const hooksByServer = new WeakMap<ServerHooks, FilesHooks>();

/**
 * The files hooks of the server that `owner` belongs to (a plugin's `ctx`, or the `ConfabServer` itself),
 * made on first use: a plugin may tap them in its setup whether it is set up before the files plugin or after.
 *
 * @example
 *   getFilesHooks(server).failed.tap('alerts', (progress, error) => console.warn(progress.name, error.code));
 */
export function getFilesHooks(owner: { readonly hooks: ServerHooks }): FilesHooks {
  let hooks = hooksByServer.get(owner.hooks);
  if (!hooks) {
    hooks = Object.freeze({
      progress: new SyncHook<[TransferProgress]>(['progress']),
      stored: new SyncHook<[FileInfo, Room | undefined]>(['file', 'room']),
      removed: new SyncHook<[FileInfo, 'deleted' | 'expired']>(['file', 'why']),
      failed: new SyncHook<[TransferProgress, ConfabError]>(['progress', 'error']),
    });
    hooksByServer.set(owner.hooks, hooks);
  }
  return hooks;
}
