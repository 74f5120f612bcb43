/**
 * Screen capture with getDisplayMedia: the shared screen or window at its own size up to the configured
 * bound (1920×1080 by default), a few frames a second, tuned for text (the track's `contentHint` and the
 * encoder's are `'text'`), sent as VP8 or JPEG (video-publisher.ts) until the user stops it here or in the
 * browser's bar.
 */
import type { ScreenMediaConfig } from '../api.js';
import type { Picture } from './canvas-grabber.js';
import { VideoPublisher, type VideoOutlet } from './video-publisher.js';

/** How the screen is sent: the server's `/api/media` screen settings, and whether VP8 can be encoded. */
export interface ScreenSettings extends ScreenMediaConfig {
  vp8: boolean;
}

/** One running screen capture. */
export class ScreenCapture {
  readonly #stream: MediaStream;
  readonly #video: HTMLVideoElement;
  readonly #publisher: VideoPublisher;
  #stopped = false;

  private constructor(stream: MediaStream, settings: ScreenSettings, outlet: VideoOutlet, onPicture: (picture: Picture) => void, onEnded: () => void) {
    this.#stream = stream;
    this.#video = document.createElement('video');
    this.#video.muted = true;
    this.#video.srcObject = stream;
    void this.#video.play().catch(() => undefined);
    const track = stream.getVideoTracks()[0]!;
    track.contentHint = 'text';
    this.#publisher = new VideoPublisher(track, this.#video, outlet, {
      width: settings.maxWidth,
      height: settings.maxHeight,
      fit: 'contain',
      fps: settings.fps,
      quality: settings.quality,
      bitrate: settings.bitrate,
      minBitrate: settings.minBitrate,
      vp8: settings.vp8,
      contentHint: 'text',
      onPicture,
    });
    // The browser's own "Stop sharing" button ends the track.
    track.addEventListener('ended', () => {
      if (!this.#stopped) onEnded();
      this.stop();
    });
  }

  /**
   * Asks the user what to share, then publishes it through `outlet`, calling `onPicture` with each picture
   * sent (the presenter's own view). Rejects with a readable message when refused or unsupported.
   */
  static async start(settings: ScreenSettings, outlet: VideoOutlet, onPicture: (picture: Picture) => void, onEnded: () => void): Promise<ScreenCapture> {
    if (!navigator.mediaDevices?.getDisplayMedia) throw new Error('This browser cannot share its screen (on a phone, or not on a secure page).');
    try {
      const stream = await navigator.mediaDevices.getDisplayMedia({
        video: { frameRate: settings.fps, width: { max: settings.maxWidth }, height: { max: settings.maxHeight } },
        audio: false,
      });
      return new ScreenCapture(stream, settings, outlet, onPicture, onEnded);
    } catch (error) {
      const refused = error instanceof DOMException && error.name === 'NotAllowedError';
      throw new Error(refused ? 'Screen sharing was cancelled or refused.' : `Screen sharing failed: ${String(error)}`);
    }
  }

  /** Stops capturing. Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#publisher.stop();
    for (const track of this.#stream.getTracks()) track.stop();
  }
}
