/**
 * Screen capture with getDisplayMedia: JPEG frames of the shared screen or window (at most 1920×1080, a few
 * per second: text stays sharp, bandwidth stays low) until the user stops it here or in the browser's bar.
 */
import { JpegEncoder } from './jpeg-encoder.js';

const SCREEN_ENCODING = { width: 1920, height: 1080, fps: 5, quality: 0.75, fit: 'contain' } as const;

/** One running screen capture. */
export class ScreenCapture {
  readonly #stream: MediaStream;
  readonly #video: HTMLVideoElement;
  readonly #encoder: JpegEncoder;
  #stopped = false;

  private constructor(stream: MediaStream, onFrame: (jpeg: Uint8Array, captureMs: number) => void, onEnded: () => void) {
    this.#stream = stream;
    this.#video = document.createElement('video');
    this.#video.muted = true;
    this.#video.srcObject = stream;
    void this.#video.play().catch(() => undefined);
    this.#encoder = new JpegEncoder(this.#video, SCREEN_ENCODING, onFrame);
    this.#encoder.start();
    // The browser's own "Stop sharing" button ends the track.
    stream.getVideoTracks()[0]?.addEventListener('ended', () => {
      if (!this.#stopped) onEnded();
      this.stop();
    });
  }

  /** Asks the user what to share. Rejects with a readable message when refused or unsupported. */
  static async start(onFrame: (jpeg: Uint8Array, captureMs: number) => void, onEnded: () => void): Promise<ScreenCapture> {
    if (!navigator.mediaDevices?.getDisplayMedia) throw new Error('This browser cannot share its screen (on a phone, or not on a secure page).');
    try {
      const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: SCREEN_ENCODING.fps }, audio: false });
      return new ScreenCapture(stream, onFrame, onEnded);
    } catch (error) {
      const refused = error instanceof DOMException && error.name === 'NotAllowedError';
      throw new Error(refused ? 'Screen sharing was cancelled or refused.' : `Screen sharing failed: ${String(error)}`);
    }
  }

  /** Stops capturing. Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#encoder.stop();
    for (const track of this.#stream.getTracks()) track.stop();
  }
}
