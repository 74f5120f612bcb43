/**
 * VP8 with WebCodecs for one outgoing stream (camera or screen): `VideoEncoder` in real-time mode with three
 * temporal layers (`L1T3`), each chunk handed on with its header fields (keyframe, layer, switch-up point,
 * capture time). It makes a keyframe when asked, follows the receivers' bitrate within its bounds, and after a
 * chunk could not be sent publishes nothing until the next keyframe (the deltas after it would not decode).
 * An encoder error closes it for good and is reported: the caller falls back to JPEG.
 */
import { MediaCodec, type PublishOptions } from '../../core/media.js';
import { SwitchUpMarker } from './switch-up.js';

/** The encoder's settings. */
export interface Vp8EncoderOptions {
  /** Starting and highest bitrate, bits per second. */
  bitrate: number;
  /** Lowest bitrate bitrate feedback may bring it to. */
  minBitrate: number;
  /** Frames per second the source gives (rate control's budget per frame). */
  fps: number;
  /** What the picture is (`'text'` for a screen of documents): the encoder keeps edges sharp over motion. */
  contentHint?: string;
}

/** Sends one chunk; false when it was not sent (the uplink is backed up, or not connected). */
export type ChunkSender = (data: Uint8Array, options: PublishOptions) => boolean;

/** A target bitrate within this fraction of the current one does not reconfigure the encoder. */
const BITRATE_HYSTERESIS = 0.1;
/** Frames waiting in the encoder beyond this are skipped (a slow machine sends fewer, never a backlog). */
const MAX_QUEUED_FRAMES = 2;

/** One VP8 stream. */
export class Vp8Encoder {
  readonly #options: Vp8EncoderOptions;
  readonly #send: ChunkSender;
  readonly #onError: (error: DOMException) => void;
  readonly #encoder: VideoEncoder;
  #config: VideoEncoderConfig | undefined;
  #bitrate: number;
  readonly #marker = new SwitchUpMarker();
  #keyframeWanted = true;
  /** A chunk could not be sent: drop everything until a keyframe. */
  #waitingForKeyframe = false;

  constructor(options: Vp8EncoderOptions, send: ChunkSender, onError: (error: DOMException) => void) {
    this.#options = options;
    this.#send = send;
    this.#onError = onError;
    this.#bitrate = options.bitrate;
    this.#encoder = new VideoEncoder({
      output: (chunk, metadata) => this.#output(chunk, metadata),
      error: (error) => this.#onError(error),
    });
  }

  /** Encodes one frame at `size` (the encoder scales the frame to it). The caller still owns the frame. */
  encode(frame: VideoFrame, size: { width: number; height: number }): void {
    const encoder = this.#encoder;
    if (encoder.state === 'closed') return;
    if (this.#config?.width !== size.width || this.#config.height !== size.height) {
      this.#configure(size.width, size.height);
      this.#keyframeWanted = true;
    }
    if (encoder.encodeQueueSize > MAX_QUEUED_FRAMES) return;
    encoder.encode(frame, { keyFrame: this.#keyframeWanted });
    this.#keyframeWanted = false;
  }

  /** Makes the next frame a keyframe (a receiver asked, or joined). */
  requestKeyframe(): void {
    this.#keyframeWanted = true;
  }

  /**
   * Follows the receivers' bitrate feedback: `bps` clamped to the bounds (the highest when null). The encoder
   * is reconfigured (which makes no keyframe) for a change over 10%, or to reach a bound exactly.
   */
  setTargetBitrate(bps: number | null): void {
    const { bitrate: highest, minBitrate: lowest } = this.#options;
    const target = Math.round(Math.min(highest, Math.max(lowest, bps ?? highest)));
    const small = Math.abs(target - this.#bitrate) <= this.#bitrate * BITRATE_HYSTERESIS;
    if (target === this.#bitrate || (small && target !== highest && target !== lowest)) return;
    this.#bitrate = target;
    if (this.#config && this.#encoder.state === 'configured') this.#configure(this.#config.width, this.#config.height);
  }

  /** Stops encoding (chunks still in the encoder are dropped). Idempotent. */
  close(): void {
    if (this.#encoder.state !== 'closed') this.#encoder.close();
  }

  #configure(width: number, height: number): void {
    this.#config = {
      codec: 'vp8',
      width,
      height,
      bitrate: this.#bitrate,
      framerate: this.#options.fps,
      latencyMode: 'realtime',
      scalabilityMode: 'L1T3',
      ...(this.#options.contentHint ? { contentHint: this.#options.contentHint } : {}),
    };
    this.#encoder.configure(this.#config);
  }

  #output(chunk: EncodedVideoChunk, metadata: EncodedVideoChunkMetadata | undefined): void {
    const keyframe = chunk.type === 'key';
    if (this.#waitingForKeyframe && !keyframe) return;
    this.#waitingForKeyframe = false;
    const layer = keyframe ? 0 : metadata?.svc?.temporalLayerId ?? 0;
    const switchUp = this.#marker.next(layer, keyframe);
    const data = new Uint8Array(chunk.byteLength);
    chunk.copyTo(data);
    const sent = this.#send(data, { codec: MediaCodec.VP8, keyframe, layer, switchUp, captureMs: chunk.timestamp / 1000 });
    if (!sent) {
      this.#waitingForKeyframe = true;
      this.#keyframeWanted = true;
    }
  }
}
