/**
 * Which frames of an outgoing VP8 `L1T3` stream are switch-up points (media header bit 3): frames that
 * reference nothing of their own or a higher layer since the last base-layer frame, so a receiver that had
 * only the lower layers may start taking their layer there.
 *
 * WebCodecs does not say what its frames reference, so this was measured by recording a browser's chunks and
 * decoding subsets with ffmpeg (framemd5 against the full stream; `test/web/web-media-switch-up.test.ts`
 * repeats the check on every run):
 * - Chromium (156): no frame of layer 1 or 2 references its own layer, so every frame is a switch-up point.
 * - libvpx's 0-2-1-2 pattern (ffmpeg, and browsers that use it as is): a layer-1 frame and the first layer-2
 *   frame after a base-layer frame are; the second layer-2 frame references the first, so it is not.
 * The marker flags what holds for both: base-layer frames, layer-1 frames, and the first layer-2 frame after
 * each base-layer frame. A receiver climbing to layer 2 waits at most one base period for it.
 */

/** Marks the frames of one encoder's output, in order. A keyframe starts over. */
export class SwitchUpMarker {
  /** Layer-2 frames since the last base-layer frame. */
  #layer2Frames = 0;

  /** Whether the next frame (its temporal layer, and whether it is a keyframe) is a switch-up point. */
  next(layer: number, keyframe: boolean): boolean {
    if (keyframe || layer === 0) {
      this.#layer2Frames = 0;
      return true;
    }
    if (layer === 1) return true;
    return this.#layer2Frames++ === 0;
  }
}
