/**
 * What the parts of the files plugin's server half share, made once per server by its setup (server.ts):
 * the plugin context, the settings, the channels, the store, the running transfers and the plugin's hooks.
 */
import type { Observe } from '../../core/metrics.js';
import type { Channel, PluginContext } from '../../core/types.js';
import type { FilesHooks } from './hooks.js';
import type { FilesSettings } from './options.js';
import type { FilesMessage, FilesRequest } from './protocol.js';
import type { FileStore } from './store.js';
import type { Transfers } from './transfers.js';

/** The shared state of one server's files plugin. */
export interface FilesServerContext {
  readonly ctx: PluginContext;
  readonly settings: FilesSettings;
  /** This server's files hooks (`getFilesHooks`). */
  readonly hooks: FilesHooks;
  /** The control channel. */
  readonly control: Channel<FilesRequest, FilesMessage>;
  /** The data channel: chunks, and downloads' binary acks. */
  readonly data: Channel<Uint8Array, Uint8Array>;
  readonly store: FileStore;
  readonly transfers: Transfers;
  /** Records a completed transfer's throughput (bytes per second) by direction. */
  readonly throughput: Observe;
}

/** Buckets of the transfer throughput histogram, bytes per second: 64 KiB/s to 1 GiB/s, by fours. */
const THROUGHPUT_BUCKETS = [2 ** 16, 2 ** 18, 2 ** 20, 2 ** 22, 2 ** 24, 2 ** 26, 2 ** 28, 2 ** 30];

/** The throughput histogram of completed transfers, `confab_files_throughput_bytes_per_second{direction}`. */
export function throughputHistogram(ctx: PluginContext): Observe {
  return ctx.metrics.histogram('confab_files_throughput_bytes_per_second',
    'Throughput of each completed transfer (offer or get to the last byte confirmed), bytes per second, by direction.',
    THROUGHPUT_BUCKETS, 'direction');
}

/** Bytes per second of `bytes` moved since `startedAt` (ms since the epoch), counting at least 1 ms. */
export function rate(bytes: number, startedAt: number): number {
  return bytes / Math.max(0.001, (Date.now() - startedAt) / 1000);
}
