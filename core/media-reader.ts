/**
 * The receiving side of one media stream (one sender's camera, a screen share): decides which frames a
 * decoder can take. A delta frame needs every base-layer frame since the last keyframe, so after a lost
 * base-layer frame (seen as a jump of the header's base-layer index), a decoder error, or a late join, the
 * reader refuses deltas until the next keyframe, and says so, so that the client asks the sender for one.
 *
 * Frames of a layer a relay left out are no loss: a frame of layer 1 or 2 is never a reference for a lower
 * layer. Streams whose every frame is a keyframe (JPEG) are always accepted. Works in Node and the browser.
 */
import { BASE_INDEX_MODULO, type MediaFrame } from './media.js';

/** Why a reader wants a keyframe: it has none yet, it missed a base-layer frame, or the decoder failed. */
export type KeyframeReason = 'join' | 'gap' | 'decode-error';

/**
 * Tracks one stream.
 *
 * @example
 *   const reader = new MediaStreamReader();
 *   video.on('frame', (frame) => {
 *     if (reader.accept(frame)) decoder.decode(frame);
 *     else if (reader.wantsKeyframe) askForKeyframe(reader.wantsKeyframe);
 *   });
 */
export class MediaStreamReader {
  /** The base-layer index of the last base-layer frame accepted; undefined before the first keyframe. */
  #baseIndex: number | undefined;
  #wants: KeyframeReason | undefined = 'join';

  /** Why the reader waits for a keyframe, or undefined while frames decode. */
  get wantsKeyframe(): KeyframeReason | undefined {
    return this.#wants;
  }

  /** True when the frame can go to the decoder; false when it must be skipped until a keyframe comes. */
  accept(frame: MediaFrame): boolean {
    if (frame.keyframe) {
      this.#wants = undefined;
      this.#baseIndex = frame.baseIndex;
      return true;
    }
    if (this.#wants !== undefined || this.#baseIndex === undefined) return false;
    if (frame.layer === 0) {
      if (frame.baseIndex !== (this.#baseIndex + 1) % BASE_INDEX_MODULO) return this.#lost('gap');
      this.#baseIndex = frame.baseIndex;
      return true;
    }
    // A higher-layer frame builds on the newest base-layer frame: it must be the one accepted last.
    return frame.baseIndex === this.#baseIndex || this.#lost('gap');
  }

  /** The decoder failed on an accepted frame: wait for a keyframe. */
  decodeFailed(): void {
    this.#wants = 'decode-error';
  }

  #lost(reason: KeyframeReason): false {
    this.#wants = reason;
    return false;
  }
}
