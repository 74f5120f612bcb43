/**
 * The camera: opens it with getUserMedia, shows it in the local preview <video>, and hands JPEG frames of
 * the configured size and rate to `onFrame` (the web client publishes them with the video-relay plugin).
 */
import { JpegEncoder } from './jpeg-encoder.js';
import { cameraError } from './permissions.js';

/** Size, rate and quality of the frames sent, from the server's `/api/config`. */
export interface CameraSettings {
  width: number;
  height: number;
  fps: number;
  quality: number;
}

/** One open camera; `stop()` releases it. */
export class Camera {
  readonly preview: HTMLVideoElement;
  readonly #stream: MediaStream;
  readonly #encoder: JpegEncoder;

  private constructor(stream: MediaStream, settings: CameraSettings, onFrame: (jpeg: Uint8Array, captureMs: number) => void) {
    this.#stream = stream;
    this.preview = document.createElement('video');
    this.preview.muted = true;
    this.preview.playsInline = true;
    this.preview.autoplay = true;
    this.preview.className = 'mirror';
    this.preview.setAttribute('aria-label', 'Your camera');
    this.preview.srcObject = stream;
    void this.preview.play().catch(() => undefined);
    this.#encoder = new JpegEncoder(this.preview, { ...settings, fit: 'cover' }, onFrame);
    this.#encoder.start();
  }

  /** Opens the camera (a given device, or the default). Rejects with a message a person can act on. */
  static async open(deviceId: string | undefined, settings: CameraSettings, onFrame: (jpeg: Uint8Array, captureMs: number) => void): Promise<Camera> {
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
    return new Camera(stream, settings, onFrame);
  }

  /** Stops sending and releases the camera (its light goes off). */
  stop(): void {
    this.#encoder.stop();
    for (const track of this.#stream.getTracks()) track.stop();
    this.preview.srcObject = null;
  }
}
