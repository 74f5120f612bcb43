/**
 * Where a captured picture goes in an outgoing frame: the camera is cropped to exactly the configured size
 * (`cover`, like a tile), a screen is scaled down to fit within it, keeping its aspect ratio (`contain`).
 * Sizes and offsets are even, as 4:2:0 video needs.
 */

/** `cover` (crop the middle to the output's aspect ratio) or `contain` (scale down, keep the whole picture). */
export type Fit = 'cover' | 'contain';

/** The part of the source to take and the size to send it at. */
export interface FrameFit {
  /** The source rectangle to take, in source pixels. */
  crop: { x: number; y: number; width: number; height: number };
  /** The outgoing frame's size. */
  width: number;
  height: number;
}

/**
 * Fits a `sourceWidth` × `sourceHeight` picture into `width` × `height`.
 *
 * @example
 *   fitFrame(1280, 720, 640, 480, 'cover')     // crop 960×720 from x 160, sent at 640×480
 *   fitFrame(2560, 1440, 1920, 1080, 'contain') // all of it, sent at 1920×1080
 */
export function fitFrame(sourceWidth: number, sourceHeight: number, width: number, height: number, fit: Fit): FrameFit {
  if (fit === 'contain') {
    const scale = Math.min(1, width / sourceWidth, height / sourceHeight);
    return {
      crop: { x: 0, y: 0, width: sourceWidth, height: sourceHeight },
      width: even(sourceWidth * scale),
      height: even(sourceHeight * scale),
    };
  }
  const scale = Math.max(width / sourceWidth, height / sourceHeight);
  const cropWidth = Math.min(sourceWidth, even(width / scale));
  const cropHeight = Math.min(sourceHeight, even(height / scale));
  return {
    crop: { x: evenDown((sourceWidth - cropWidth) / 2), y: evenDown((sourceHeight - cropHeight) / 2), width: cropWidth, height: cropHeight },
    width: even(width),
    height: even(height),
  };
}

/** A size: the even number at or below `value`, at least 2. */
function even(value: number): number {
  return Math.max(2, evenDown(value));
}

/** The even number at or below `value`. */
function evenDown(value: number): number {
  return Math.floor(value / 2) * 2;
}
