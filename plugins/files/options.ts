/**
 * The files plugin's options: what each means, and the check that fills every default (a wrong option is
 * CONFIG_INVALID naming it, before the server listens).
 */
import { readOptions } from '../../core/options.js';

/** Options of the files plugin. */
export interface FilesOptions {
  /** Largest file accepted, in bytes. Default 100 MiB. */
  maxFileBytes?: number;
  /** Bytes a room's stored files (and uploads in progress) may take. Default 1 GiB. */
  roomQuotaBytes?: number;
  /** Uploads and downloads one session may run at once. Default 4. */
  maxTransfersPerSession?: number;
  /** Stored files older than this are removed (ms); 0 keeps them until deleted. Default 0. */
  expireAfterMs?: number;
  /**
   * Unconfirmed bytes a transfer may have in flight. Default 8 MiB. Downloads use at most half the server's
   * `resumeBufferBytes` per session, so a resumed session always gets back every chunk it missed.
   */
  windowBytes?: number;
  /** A transfer of a connected session without progress for this long is cancelled (ms). Default 120 000. */
  stallTimeoutMs?: number;
  /**
   * Bytes kept free on the data directory's disk: an upload is refused (FILES_DISK_FULL) when the disk
   * cannot take it, and what accepted uploads have yet to write, and still keep this much. Default 64 MiB.
   */
  minFreeDiskBytes?: number;
  /**
   * Once the disk is low (less than twice `minFreeDiskBytes` free beyond pending uploads), an upload without
   * progress for this long is cancelled, whatever `stallTimeoutMs` says (ms). Default 10 000.
   */
  lowDiskStallTimeoutMs?: number;
}

/** The plugin's settings, every default filled in. */
export type FilesSettings = Required<FilesOptions>;

/** Checks the options and fills every default. */
export function readFilesOptions(options: FilesOptions): FilesSettings {
  return readOptions('files', options, {
    maxFileBytes: { type: 'integer', min: 0, max: Number.MAX_SAFE_INTEGER, default: 100 * 2 ** 20 },
    roomQuotaBytes: { type: 'integer', min: 0, max: Number.MAX_SAFE_INTEGER, default: 2 ** 30 },
    maxTransfersPerSession: { type: 'integer', min: 1, max: 1000, default: 4 },
    expireAfterMs: { type: 'integer', min: 0, default: 0 },
    windowBytes: { type: 'integer', min: 64 * 1024, max: 256 * 2 ** 20, default: 8 * 2 ** 20 },
    stallTimeoutMs: { type: 'integer', min: 1000, default: 120_000 },
    minFreeDiskBytes: { type: 'integer', min: 0, max: Number.MAX_SAFE_INTEGER, default: 64 * 2 ** 20 },
    lowDiskStallTimeoutMs: { type: 'integer', min: 1000, default: 10_000 },
  });
}
