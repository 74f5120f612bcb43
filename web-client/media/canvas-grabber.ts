/**
 * Draws the current picture of a playing <video> (camera or screen) on a canvas, fitted to the outgoing
 * frame's size (frame-fit.ts): what the JPEG encoder compresses, and the VP8 encoder's frame source where the
 * browser cannot read a track's frames directly.
 */
import { fitFrame, type Fit } from './frame-fit.js';

/** A picture made in this page: a captured frame, or a canvas drawn from one. */
export type Picture = VideoFrame | OffscreenCanvas | HTMLCanvasElement;

/** The outgoing frame's size, and how the picture fits in it. */
export interface GrabOptions {
  width: number;
  height: number;
  fit: Fit;
}

/** A canvas that holds the last picture grabbed. */
export class CanvasGrabber {
  /** The canvas drawn on (an OffscreenCanvas where the browser has one). */
  readonly canvas: OffscreenCanvas | HTMLCanvasElement;
  readonly #options: GrabOptions;
  readonly #context: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

  constructor(options: GrabOptions) {
    this.#options = options;
    this.canvas = typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(options.width, options.height) : document.createElement('canvas');
    this.#context = this.canvas.getContext('2d', { alpha: false }) as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;
  }

  /** Draws the video's current picture; false while it has none yet. */
  grab(video: HTMLVideoElement): boolean {
    if (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA || video.videoWidth === 0) return false;
    const { crop, width, height } = fitFrame(video.videoWidth, video.videoHeight, this.#options.width, this.#options.height, this.#options.fit);
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    this.#context.drawImage(video, crop.x, crop.y, crop.width, crop.height, 0, 0, width, height);
    return true;
  }
}
