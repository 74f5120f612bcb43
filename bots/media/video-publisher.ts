/**
 * Publishes a bot's video (camera or screen share): the source's frames go out as JPEG images as they are,
 * or through a layered VP8 stream (vp8-stream.ts) that answers the server's keyframe requests and follows its
 * bitrate feedback within bounds (bitrate-policy.ts).
 *
 * A VP8 frame that `publish` refused (the connection was backed up) breaks the chain of deltas for every
 * receiver, so the next frame is made a keyframe, as the client halves ask.
 */
import { MediaCodec, type PublishOptions } from '../../core/media.js';
import type { ConfabError } from '../../core/errors.js';
import type { ScreenApi } from '../../plugins/screen/client.js';
import type { VideoApi } from '../../plugins/video-relay/client.js';
import { BitratePolicy, type BitrateBounds } from './bitrate-policy.js';
import type { VideoContent } from './vp8-settings.js';
import { Vp8Stream } from './vp8-stream.js';

/** The video codecs a bot publishes. */
export type BotVideoCodec = 'vp8' | 'jpeg';

/** Where the frames go: the camera (video-relay) or the screen share, seen the same way. */
export interface VideoOutlet {
  /** Sends a frame; false when it was dropped. */
  publish(data: Uint8Array, options: PublishOptions): boolean;
  /** Calls `listener` on each keyframe request of the server; returns the function that stops it. */
  onKeyframeRequest(listener: () => void): () => void;
  /** Calls `listener` on each bitrate feedback (bits/s, null: no limit); returns the function that stops it. */
  onBitrate(listener: (bps: number | null) => void): () => void;
}

/**
 * The camera as an outlet.
 *
 * @example
 *   startVideoPublisher({ outlet: cameraOutlet(bot.video), codec: 'vp8', … })
 */
export function cameraOutlet(video: VideoApi): VideoOutlet {
  return {
    publish: (data, options) => video.publish(data, options),
    onKeyframeRequest(listener) {
      video.on('keyframeRequest', listener);
      return () => video.off('keyframeRequest', listener);
    },
    onBitrate(listener) {
      const onBitrate = ({ bps }: { bps: number | null }) => listener(bps);
      video.on('bitrate', onBitrate);
      return () => video.off('bitrate', onBitrate);
    },
  };
}

/** The screen share as an outlet (publish after `screen.start()`). */
export function screenOutlet(screen: ScreenApi): VideoOutlet {
  return {
    publish: (data, options) => screen.publish(data, options),
    onKeyframeRequest(listener) {
      screen.on('keyframeRequest', listener);
      return () => screen.off('keyframeRequest', listener);
    },
    onBitrate(listener) {
      const onBitrate = ({ bps }: { bps: number | null }) => listener(bps);
      screen.on('bitrate', onBitrate);
      return () => screen.off('bitrate', onBitrate);
    },
  };
}

/** Options of `startVideoPublisher`. */
export interface VideoPublisherOptions {
  outlet: VideoOutlet;
  codec: BotVideoCodec;
  /** The frames' size and rate (VP8: the I420 frames the source gives). */
  width: number;
  height: number;
  fps: number;
  content?: VideoContent;
  /** VP8's bitrate bounds; it starts at the maximum. Default 150–500 kbit/s. */
  bitrate?: BitrateBounds;
  /** An encoder failed. */
  onError?: (error: ConfabError) => void;
}

/** What a publisher did. */
export interface VideoPublisherStats {
  /** Frames sent, and dropped because the connection was backed up. */
  sent: number;
  dropped: number;
  /** Encoded bytes sent. */
  bytes: number;
  /** Keyframe requests from the server, and request → keyframe times (ms) of those answered (VP8). */
  keyframeRequests: number;
  keyframeLatencyMs: number[];
  /** The VP8 rates switched to after the first, bits per second. */
  bitrateChanges: number[];
}

/** A running video publisher. */
export interface VideoPublisher {
  /** One frame of the source: a JPEG image, or I420 bytes for VP8. */
  frame(data: Buffer, captureMs: number): void;
  /** The VP8 encoder's rate now (undefined for JPEG). */
  readonly bitrateBps: number | undefined;
  readonly stats: VideoPublisherStats;
  /** Stops the encoders and the listeners. Idempotent. */
  close(): Promise<void>;
}

/** Default VP8 bounds for a camera at 640×480: what the codec bench shows holds SSIM ≥ 0.97. */
export const DEFAULT_VIDEO_BITRATE: BitrateBounds = { minBps: 150_000, maxBps: 500_000 };

/**
 * Starts publishing.
 *
 * @throws ConfabError FFMPEG_NOT_FOUND (VP8).
 * @example
 *   const publisher = await startVideoPublisher({ outlet: cameraOutlet(bot.video), codec: 'vp8', width: 640, height: 480, fps: 15 });
 *   source.on('video', (i420, captureMs) => publisher.frame(i420, captureMs));
 */
export async function startVideoPublisher(options: VideoPublisherOptions): Promise<VideoPublisher> {
  const { outlet } = options;
  const stats: VideoPublisherStats = { sent: 0, dropped: 0, bytes: 0, keyframeRequests: 0, keyframeLatencyMs: [], bitrateChanges: [] };
  const count = (ok: boolean, bytes: number) => {
    if (ok) {
      stats.sent++;
      stats.bytes += bytes;
    } else stats.dropped++;
    return ok;
  };

  if (options.codec === 'jpeg') {
    // Every JPEG is a keyframe: requests need no answer, and the quality stays as the source made it.
    return {
      frame: (jpeg, captureMs) => void count(outlet.publish(jpeg, { codec: MediaCodec.JPEG, keyframe: true, captureMs }), jpeg.length),
      bitrateBps: undefined,
      stats,
      close: async () => {},
    };
  }

  const bounds = options.bitrate ?? DEFAULT_VIDEO_BITRATE;
  const policy = new BitratePolicy(bounds, bounds.maxBps);
  const stream = await Vp8Stream.start({
    width: options.width,
    height: options.height,
    fps: options.fps,
    bitrateBps: policy.rateBps,
    content: options.content,
    onError: options.onError,
    onFrame: (frame) => {
      const ok = outlet.publish(frame.data, {
        codec: MediaCodec.VP8,
        keyframe: frame.keyframe,
        layer: frame.layer,
        switchUp: frame.switchUp,
        captureMs: frame.captureMs,
      });
      if (!count(ok, frame.data.length)) stream.requestKeyframe();
    },
  });
  // The stream keeps these lists; the stats show them as they grow.
  stats.keyframeLatencyMs = stream.stats.keyframeLatencyMs;
  stats.bitrateChanges = stream.stats.bitrateChanges;
  const stopRequests = outlet.onKeyframeRequest(() => {
    stats.keyframeRequests++;
    stream.requestKeyframe();
  });
  const stopFeedback = outlet.onBitrate((bps) => policy.feedback(bps));
  let closed: Promise<void> | undefined;

  return {
    frame(i420, captureMs) {
      const next = policy.decide();
      if (next !== undefined) stream.setBitrate(next);
      stream.write(i420, captureMs);
    },
    get bitrateBps() {
      return stream.bitrateBps;
    },
    stats,
    close() {
      closed ??= (async () => {
        stopRequests();
        stopFeedback();
        await stream.close();
      })();
      return closed;
    },
  };
}
