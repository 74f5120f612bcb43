/**
 * The files plugin's own hooks, for other plugins (audit logs, virus scanners, dashboards): one set per
 * plugin instance, on `files().hooks`.
 */
import { SyncHook } from 'tapable';
import type { ConfabError } from '../../core/errors.js';
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
  progress: SyncHook<[TransferProgress]>;
  /** A file was verified and stored, before it is announced. */
  stored: SyncHook<[FileInfo, Room | undefined]>;
  /** A stored file was deleted or expired. */
  removed: SyncHook<[FileInfo, 'deleted' | 'expired']>;
  /** A transfer ended without completing: refused, cancelled, its session left, or the disk failed. */
  failed: SyncHook<[TransferProgress, ConfabError]>;
}

/** Creates the hooks of one files plugin. */
export function createFilesHooks(): FilesHooks {
  return Object.freeze({
    progress: new SyncHook<[TransferProgress]>(['progress']),
    stored: new SyncHook<[FileInfo, Room | undefined]>(['file', 'room']),
    removed: new SyncHook<[FileInfo, 'deleted' | 'expired']>(['file', 'why']),
    failed: new SyncHook<[TransferProgress, ConfabError]>(['progress', 'error']),
  });
}
