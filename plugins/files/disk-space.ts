/**
 * Free space on the disk of the files plugin's data directory. An upload is accepted only when the disk can
 * take it and still keep a margin free (for the store, the logs and the other plugins), counting the bytes
 * that accepted uploads have yet to write: a full disk stays the files plugin's problem. The disk is "low"
 * when what is free beyond the pending uploads is under twice the margin; then stalled uploads, which hold
 * space others are refused for, are ended sooner.
 *
 * `statfsSync` is one cheap system call, made per offer and per sweep while uploads run; keeping it
 * synchronous keeps the offer's checks and its reservation in one step, with no await in between for
 * another offer to slip through.
 */
import { statfsSync } from 'node:fs';

/** What the disk can take now. */
export interface SpaceCheck {
  /** Bytes available to the server on the disk (statfs `bavail × bsize`). */
  free: number;
  /** Bytes that accepted uploads have yet to write. */
  pending: number;
  /** The margin kept free. */
  margin: number;
}

/** The free space of one directory's disk, net of pending uploads. */
export class DiskSpace {
  readonly #dir: string;
  readonly #margin: number;
  readonly #pending: () => number;

  /** `pending` returns the bytes accepted uploads have yet to write. */
  constructor(dir: string, marginBytes: number, pending: () => number) {
    this.#dir = dir;
    this.#margin = marginBytes;
    this.#pending = pending;
  }

  /** Reads the disk's free space now. */
  check(): SpaceCheck {
    const stats = statfsSync(this.#dir);
    return { free: stats.bavail * stats.bsize, pending: this.#pending(), margin: this.#margin };
  }

  /** True when the disk can take `size` more bytes and keep the margin. */
  fits(space: SpaceCheck, size: number): boolean {
    return space.free - space.pending - size >= space.margin;
  }

  /** True when the disk is low: under twice the margin is free beyond what pending uploads will write. */
  isLow(): boolean {
    const space = this.check();
    return space.free - space.pending < 2 * space.margin;
  }
}
