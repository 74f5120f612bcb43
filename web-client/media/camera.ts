/**
 * The camera: opens it with getUserMedia, shows it in the local preview <video>, and publishes it with the
 * video-relay plugin's client half (VP8, or JPEG without a VP8 encoder: video-publisher.ts).
 */
import { cameraError } from './permissions.js';
import { VideoPublisher, type VideoOutlet } from './video-publisher.js';

/** How the camera is sent, from the server's `/api/config` and `/api/media`. */
export interface CameraSettings {
  /** Frame size (the picture is cropped to fill it) and rate. */
  width: number;
  height: number;
  fps: number;
  /** JPEG quality, 0..1, without VP8. */
  quality: number;
  /** VP8 bitrate bounds, bits per second. */
  bitrate: number;
  minBitrate: number;
  /** Send VP8 (this browser has the encoder). */
  vp8: boolean;
}

/** One open camera; `stop()` releases it. */
export class Camera {
  readonly preview: HTMLVideoElement;
  readonly #stream: MediaStream;
  readonly #publisher: VideoPublisher;

  private constructor(stream: MediaStream, settings: CameraSettings, outlet: VideoOutlet) {
    this.#stream = stream;
    this.preview = document.createElement('video');
    this.preview.muted = true;
    this.preview.playsInline = true;
    this.preview.autoplay = true;
    this.preview.className = 'mirror';
    this.preview.setAttribute('aria-label', 'Your camera');
    this.preview.srcObject = stream;
    void this.preview.play().catch(() => undefined);
    this.#publisher = new VideoPublisher(stream.getVideoTracks()[0]!, this.preview, outlet, { ...settings, fit: 'cover' });
  }

  /** Opens the camera (a given device, or the default). Rejects with a message a person can act on. */
  static async open(deviceId: string | undefined, settings: CameraSettings, outlet: VideoOutlet): Promise<Camera> {
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: {
          deviceId: deviceId ? { exact: deviceId } : undefined,
          width: { ideal: settings.width },
          height: { ideal: settings.height },
          frameRate: { ideal: settings.fps },
        },
      });
    } catch (error) {
      throw new Error(cameraError(error));
    }
    return new Camera(stream, settings, outlet);
  }

  /** Stops sending and releases the camera (its light goes off). */
  stop(): void {
    this.#publisher.stop();
    for (const track of this.#stream.getTracks()) track.stop();
    this.preview.srcObject = null;
  }
}
