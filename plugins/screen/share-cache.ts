/**
 * The share since its latest keyframe, as the screen plugin keeps it per room: the keyframe and every
 * base-layer frame after it (higher layers are never needed to decode what follows), already framed with the
 * presenter's id, so a late joiner or a receiver that lost track gets the current picture at once.
 *
 * JPEG frames are each a keyframe, so the cache is just the latest. A VP8 share whose presenter sends no
 * keyframe for long would grow without end: past MAX_CACHE_FRAMES or MAX_CACHE_BYTES the cache is dropped,
 * and the plugin asks the presenter for a keyframe to start a new one.
 */
import { MediaCodec, type MediaFrame } from '../../core/wire.js';

/** Most frames kept since a keyframe. */
export const MAX_CACHE_FRAMES = 256;
/** Most bytes kept since a keyframe. */
export const MAX_CACHE_BYTES = 4 * 1024 * 1024;

/** What became of a frame given to `add`. */
export type CacheOutcome = 'cached' | 'not-needed' | 'overflow';

/** One room's cached share. */
export class ShareCache {
  #frames: Uint8Array[] = [];
  #bytes = 0;
  #codec: MediaCodec | undefined;

  /** True when the cache starts with a keyframe, so a decoder can take it. */
  get ready(): boolean {
    return this.#frames.length > 0;
  }

  /** The cached frames, keyframe first, as written on the wire. */
  get frames(): readonly Uint8Array[] {
    return this.#frames;
  }

  /** Bytes of the cached frames. */
  get bytes(): number {
    return this.#bytes;
  }

  /** True for a codec whose deltas need the frames before them (VP8), false for JPEG. */
  get layered(): boolean {
    return this.#codec !== undefined && this.#codec !== MediaCodec.JPEG;
  }

  /**
   * Adds a frame of the share (`framed`: the frame as written on the wire). A keyframe starts a new cache;
   * a base-layer delta of the keyframe's codec is appended when the cache is ready; anything else is not
   * needed.
   */
  add(framed: Uint8Array, frame: MediaFrame): CacheOutcome {
    if (frame.keyframe) {
      this.#frames = [framed];
      this.#bytes = framed.length;
      this.#codec = frame.codec;
      return 'cached';
    }
    if (!this.ready || frame.layer !== 0 || frame.codec !== this.#codec) return 'not-needed';
    if (this.#frames.length >= MAX_CACHE_FRAMES || this.#bytes + framed.length > MAX_CACHE_BYTES) {
      this.clear();
      return 'overflow';
    }
    this.#frames.push(framed);
    this.#bytes += framed.length;
    return 'cached';
  }

  /** Forgets the share (it ended, or a new one starts). */
  clear(): void {
    this.#frames = [];
    this.#bytes = 0;
  }
}
