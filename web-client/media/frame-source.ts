/**
 * The frames a VP8 encoder takes from a capture (camera or screen), at most `fps` a second, fitted to the
 * outgoing size (frame-fit.ts). Where the browser has `MediaStreamTrackProcessor` the frames come straight
 * from the track (cropped with `visibleRect`, scaled by the encoder); elsewhere the playing <video> is drawn
 * on a canvas at the outgoing size and wrapped in `new VideoFrame(canvas)`.
 */
import { CanvasGrabber } from './canvas-grabber.js';
import { fitFrame, type Fit } from './frame-fit.js';

/** How many frames, at which size. */
export interface FrameSourceOptions {
  /** The outgoing frame's size (the bound, for `contain`). */
  width: number;
  height: number;
  fit: Fit;
  fps: number;
}

/**
 * Gets one frame (closed by the source once the listener returns; its timestamp is the capture time in µs
 * since the epoch) and the size to encode it at.
 */
export type FrameListener = (frame: VideoFrame, size: { width: number; height: number }) => void;

/** A running frame source; `stop()` ends it. */
export interface FrameSource {
  stop(): void;
}

/** A frame that arrives this much before it is due is still taken (camera clocks jitter). */
const EARLY_FRACTION = 0.2;

/** Starts taking frames of `track` (playing in `video`). */
export function startFrameSource(track: MediaStreamTrack, video: HTMLVideoElement, options: FrameSourceOptions, onFrame: FrameListener): FrameSource {
  const Processor = globalThis.MediaStreamTrackProcessor;
  return Processor ? readTrack(new Processor({ track, maxBufferSize: 1 }).readable, options, onFrame) : drawVideo(video, options, onFrame);
}

/** Now, in ms since the epoch, on the monotonic clock. */
function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

function readTrack(readable: ReadableStream<VideoFrame>, options: FrameSourceOptions, onFrame: FrameListener): FrameSource {
  const reader = readable.getReader();
  const intervalMs = 1000 / options.fps;
  let dueMs = 0;
  let stopped = false;
  const pump = async () => {
    while (!stopped) {
      const { value: frame, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done || !frame) return;
      const captureMs = nowMs();
      if (captureMs < dueMs - intervalMs * EARLY_FRACTION) {
        frame.close();
        continue;
      }
      // Due times advance by the interval, so a frame a little late does not lower the rate; after a pause,
      // never less than half an interval from now, so frames do not bunch up.
      dueMs = Math.max(dueMs + intervalMs, captureMs + intervalMs / 2);
      const source = frame.visibleRect ?? { x: 0, y: 0, width: frame.codedWidth, height: frame.codedHeight };
      const fit = fitFrame(source.width, source.height, options.width, options.height, options.fit);
      const whole = fit.crop.width === source.width && fit.crop.height === source.height;
      let outgoing: VideoFrame | undefined;
      try {
        outgoing = new VideoFrame(frame, {
          timestamp: Math.round(captureMs * 1000),
          ...(whole ? {} : { visibleRect: { x: source.x + fit.crop.x, y: source.y + fit.crop.y, width: fit.crop.width, height: fit.crop.height } }),
        });
        onFrame(outgoing, fit);
      } finally {
        outgoing?.close();
        frame.close();
      }
    }
  };
  void pump();
  return {
    stop() {
      stopped = true;
      void reader.cancel().catch(() => undefined);
    },
  };
}

function drawVideo(video: HTMLVideoElement, options: FrameSourceOptions, onFrame: FrameListener): FrameSource {
  const grabber = new CanvasGrabber(options);
  const timer = setInterval(() => {
    const captureMs = nowMs();
    if (!grabber.grab(video)) return;
    const frame = new VideoFrame(grabber.canvas, { timestamp: Math.round(captureMs * 1000) });
    try {
      onFrame(frame, { width: grabber.canvas.width, height: grabber.canvas.height });
    } finally {
      frame.close();
    }
  }, 1000 / options.fps);
  return { stop: () => clearInterval(timer) };
}
