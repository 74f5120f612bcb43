/**
 * The files plugin's periodic sweep over one server: it ends the transfers of connected sessions that made
 * no progress for `stallTimeoutMs` (uploads after `lowDiskStallTimeoutMs` once the disk is low, as they hold
 * space that others are refused) and removes the files older than `expireAfterMs`. Server-wide, so it is a
 * plain interval that the plugin stops when the server closes.
 */
import type { Catalog } from './catalog.js';
import { FILES_ERRORS } from './protocol.js';
import type { FilesServerContext } from './server-context.js';
import { Upload } from './upload.js';
import type { Uploads } from './uploads.js';

/** Longest time between two sweeps. */
const MAX_SWEEP_MS = 10_000;

/**
 * Starts the sweep; returns the function that stops it.
 *
 * @example
 *   const stop = startSweep(files, uploads, catalog);
 *   ctx.hooks.close.tap('files', stop);
 */
export function startSweep(files: FilesServerContext, uploads: Uploads, catalog: Catalog): () => void {
  const { settings, transfers } = files;
  const sweep = () => {
    const now = Date.now();
    const uploadStallMs = !transfers.uploads().next().done && uploads.diskIsLow()
      ? Math.min(settings.stallTimeoutMs, settings.lowDiskStallTimeoutMs)
      : settings.stallTimeoutMs;
    for (const session of transfers.sessions()) {
      if (session.state !== 'active') continue;
      for (const transfer of [...transfers.of(session)]) {
        const limit = transfer instanceof Upload ? uploadStallMs : settings.stallTimeoutMs;
        if (now - transfer.lastProgress <= limit) continue;
        const why = limit < settings.stallTimeoutMs ? " (the server's disk is low)" : '';
        transfers.fail(transfer, FILES_ERRORS.FILES_TRANSFER_STALLED({ message: `no progress for ${limit} ms${why}; the transfer was cancelled` }));
      }
    }
    if (settings.expireAfterMs > 0) catalog.expire(now - settings.expireAfterMs);
  };
  const every = Math.min(MAX_SWEEP_MS, settings.stallTimeoutMs / 4, settings.lowDiskStallTimeoutMs / 4, settings.expireAfterMs || Infinity);
  const timer = setInterval(sweep, every);
  timer.unref();
  return () => clearInterval(timer);
}
