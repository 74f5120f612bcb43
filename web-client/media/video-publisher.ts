/**
 * Publishes one capture (camera or screen) through its plugin's client half: VP8 where the browser has an
 * encoder (frames from frame-source.ts into vp8-encoder.ts, keyframes when the server asks, the bitrate the
 * receivers can take), JPEG elsewhere, and JPEG for the rest of the capture if the VP8 encoder fails.
 */
import type { PublishOptions } from '../../core/media.js';
import { MediaCodec } from '../../core/media.js';
import type { Picture } from './canvas-grabber.js';
import type { Fit } from './frame-fit.js';
import { startFrameSource, type FrameSource } from './frame-source.js';
import { JpegEncoder } from './jpeg-encoder.js';
import { Vp8Encoder } from './vp8-encoder.js';

/** Where the frames go, and what the server says back: the video-relay or the screen client half. */
export interface VideoOutlet {
  /** Sends a frame; false when it was dropped. */
  publish(data: Uint8Array, options?: PublishOptions): boolean;
  on(event: 'keyframeRequest', listener: () => void): unknown;
  on(event: 'bitrate', listener: (feedback: { bps: number | null }) => void): unknown;
  off(event: 'keyframeRequest', listener: () => void): unknown;
  off(event: 'bitrate', listener: (feedback: { bps: number | null }) => void): unknown;
}

/** How to send a capture. */
export interface VideoPublisherOptions {
  /** The outgoing size (the bound, for `contain`) and how the picture fits it. */
  width: number;
  height: number;
  fit: Fit;
  fps: number;
  /** JPEG quality, 0..1, when sending JPEG. */
  quality: number;
  /** VP8 bitrate bounds, bits per second. */
  bitrate: number;
  minBitrate: number;
  /** Send VP8 (the browser has an encoder for it); else JPEG. */
  vp8: boolean;
  /** The encoder's content hint (`'text'` for a screen). */
  contentHint?: string;
  /** Called with each picture sent (the presenter's own view of the screen). */
  onPicture?: (picture: Picture) => void;
}

/** A capture being published until `stop()`. */
export class VideoPublisher {
  readonly #track: MediaStreamTrack;
  readonly #video: HTMLVideoElement;
  readonly #outlet: VideoOutlet;
  readonly #options: VideoPublisherOptions;
  #vp8: { encoder: Vp8Encoder; source: FrameSource } | undefined;
  #jpeg: JpegEncoder | undefined;
  readonly #keyframeRequested = () => this.#vp8?.encoder.requestKeyframe();
  readonly #bitrateFeedback = ({ bps }: { bps: number | null }) => this.#vp8?.encoder.setTargetBitrate(bps);

  /** Starts publishing `track`, which plays in `video`. */
  constructor(track: MediaStreamTrack, video: HTMLVideoElement, outlet: VideoOutlet, options: VideoPublisherOptions) {
    this.#track = track;
    this.#video = video;
    this.#outlet = outlet;
    this.#options = options;
    outlet.on('keyframeRequest', this.#keyframeRequested);
    outlet.on('bitrate', this.#bitrateFeedback);
    if (options.vp8) this.#startVp8();
    else this.#startJpeg();
  }

  /** Stops publishing. Idempotent. */
  stop(): void {
    this.#outlet.off('keyframeRequest', this.#keyframeRequested);
    this.#outlet.off('bitrate', this.#bitrateFeedback);
    this.#vp8?.source.stop();
    this.#vp8?.encoder.close();
    this.#vp8 = undefined;
    this.#jpeg?.stop();
    this.#jpeg = undefined;
  }

  #startVp8(): void {
    const { width, height, fit, fps, bitrate, minBitrate, contentHint, onPicture } = this.#options;
    const encoder = new Vp8Encoder({ bitrate, minBitrate, fps, ...(contentHint ? { contentHint } : {}) }, (data, options) => this.#outlet.publish(data, options), () => {
      // A failed encoder stays failed: send JPEG for the rest of this capture.
      this.#vp8?.source.stop();
      this.#vp8 = undefined;
      this.#startJpeg();
    });
    const source = startFrameSource(this.#track, this.#video, { width, height, fit, fps }, (frame, size) => {
      encoder.encode(frame, size);
      onPicture?.(frame);
    });
    this.#vp8 = { encoder, source };
  }

  #startJpeg(): void {
    const { width, height, fit, fps, quality, onPicture } = this.#options;
    this.#jpeg = new JpegEncoder(this.#video, { width, height, fit, fps, quality }, (jpeg, captureMs, picture) => {
      if (this.#outlet.publish(jpeg, { codec: MediaCodec.JPEG, keyframe: true, captureMs })) onPicture?.(picture);
    });
    this.#jpeg.start();
  }
}
