/**
 * Grabs frames from a playing <video> (camera or screen) at a fixed rate and encodes each as JPEG with an
 * OffscreenCanvas (`convertToBlob`), or a canvas' `toBlob` where OffscreenCanvas is missing: what a browser
 * without a VP8 encoder sends. A tick is skipped while the previous frame is still encoding, so a slow
 * machine sends fewer frames, never a backlog.
 */
import { CanvasGrabber, type GrabOptions, type Picture } from './canvas-grabber.js';

/** How frames are sized and how often they are taken. */
export interface JpegEncoderOptions extends GrabOptions {
  fps: number;
  /** JPEG quality, 0..1. */
  quality: number;
}

/** A JPEG and the picture it was made from (a canvas holding it until the next frame). */
export type JpegListener = (jpeg: Uint8Array, captureMs: number, picture: Picture) => void;

/** Takes JPEG frames from `video` until `stop()`. */
export class JpegEncoder {
  readonly #video: HTMLVideoElement;
  readonly #options: JpegEncoderOptions;
  readonly #onFrame: JpegListener;
  readonly #grabber: CanvasGrabber;
  #timer: ReturnType<typeof setInterval> | undefined;
  #busy = false;

  constructor(video: HTMLVideoElement, options: JpegEncoderOptions, onFrame: JpegListener) {
    this.#video = video;
    this.#options = options;
    this.#onFrame = onFrame;
    this.#grabber = new CanvasGrabber(options);
  }

  /** Starts taking frames. */
  start(): void {
    this.#timer ??= setInterval(() => void this.#tick(), 1000 / this.#options.fps);
  }

  /** Stops taking frames. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #tick(): Promise<void> {
    if (this.#busy) return;
    const captureMs = performance.timeOrigin + performance.now();
    if (!this.#grabber.grab(this.#video)) return;
    this.#busy = true;
    try {
      const blob = await this.#encode();
      if (this.#timer !== undefined) this.#onFrame(new Uint8Array(await blob.arrayBuffer()), captureMs, this.#grabber.canvas);
    } finally {
      this.#busy = false;
    }
  }

  #encode(): Promise<Blob> {
    const canvas = this.#grabber.canvas;
    const type = 'image/jpeg';
    if (canvas instanceof HTMLCanvasElement) {
      return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('toBlob failed'))), type, this.#options.quality));
    }
    return canvas.convertToBlob({ type, quality: this.#options.quality });
  }
}
