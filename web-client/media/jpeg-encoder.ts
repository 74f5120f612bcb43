/**
 * Grabs frames from a playing <video> (camera or screen) at a fixed rate and encodes each as JPEG with an
 * OffscreenCanvas (`convertToBlob`), or a canvas' `toBlob` where OffscreenCanvas is missing. A tick is
 * skipped while the previous frame is still encoding, so a slow machine sends fewer frames, never a backlog.
 */

/** How frames are sized and how often they are taken. */
export interface JpegEncoderOptions {
  /** Output size. The camera is cropped to fill it; with `fit: 'contain'` (screens) it only bounds it. */
  width: number;
  height: number;
  fps: number;
  /** JPEG quality, 0..1. */
  quality: number;
  /** `cover` (crop to exactly width × height) or `contain` (scale down, keep the whole picture). */
  fit: 'cover' | 'contain';
}

type Canvas2D = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

/** Takes JPEG frames from `video` until `stop()`. */
export class JpegEncoder {
  readonly #video: HTMLVideoElement;
  readonly #options: JpegEncoderOptions;
  readonly #onFrame: (jpeg: Uint8Array, captureMs: number) => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #busy = false;
  #canvas: OffscreenCanvas | HTMLCanvasElement;
  #context: Canvas2D;

  constructor(video: HTMLVideoElement, options: JpegEncoderOptions, onFrame: (jpeg: Uint8Array, captureMs: number) => void) {
    this.#video = video;
    this.#options = options;
    this.#onFrame = onFrame;
    this.#canvas = typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(options.width, options.height) : document.createElement('canvas');
    this.#context = this.#canvas.getContext('2d', { alpha: false }) as Canvas2D;
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
    const video = this.#video;
    if (this.#busy || video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA || video.videoWidth === 0) return;
    this.#busy = true;
    const captureMs = Date.now();
    try {
      this.#draw(video);
      const blob = await this.#encode();
      if (this.#timer !== undefined) this.#onFrame(new Uint8Array(await blob.arrayBuffer()), captureMs);
    } finally {
      this.#busy = false;
    }
  }

  #draw(video: HTMLVideoElement): void {
    const { width, height, fit } = this.#options;
    const sourceWidth = video.videoWidth;
    const sourceHeight = video.videoHeight;
    if (fit === 'contain') {
      const scale = Math.min(1, width / sourceWidth, height / sourceHeight);
      const w = Math.round(sourceWidth * scale);
      const h = Math.round(sourceHeight * scale);
      if (this.#canvas.width !== w || this.#canvas.height !== h) {
        this.#canvas.width = w;
        this.#canvas.height = h;
      }
      this.#context.drawImage(video, 0, 0, w, h);
      return;
    }
    // cover: crop the middle of the source to the output's aspect ratio
    const scale = Math.max(width / sourceWidth, height / sourceHeight);
    const cropWidth = width / scale;
    const cropHeight = height / scale;
    this.#context.drawImage(video, (sourceWidth - cropWidth) / 2, (sourceHeight - cropHeight) / 2, cropWidth, cropHeight, 0, 0, width, height);
  }

  #encode(): Promise<Blob> {
    const canvas = this.#canvas;
    const type = 'image/jpeg';
    if (canvas instanceof HTMLCanvasElement) {
      return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('toBlob failed'))), type, this.#options.quality));
    }
    return canvas.convertToBlob({ type, quality: this.#options.quality });
  }
}
