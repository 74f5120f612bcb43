/**
 * What `/api/media` tells the page about encoding: the VP8 bitrate bounds of the camera, the screen share's
 * size, rate and bitrate, and the Opus bitrate of the microphone. The camera's frame size and rate stay in
 * `/api/config`. No Node imports: the web client imports the types.
 */

/** The camera's VP8 bitrate bounds, bits per second. */
export interface VideoBitrates {
  /** The rate the encoder starts at and never exceeds (bitrate feedback only lowers it). */
  bitrate: number;
  /** The floor bitrate feedback cannot push the encoder under. */
  minBitrate: number;
}

/** How the screen is shared. */
export interface ScreenMediaConfig extends VideoBitrates {
  /** The largest picture sent; a larger screen is scaled down, keeping its aspect ratio. */
  maxWidth: number;
  maxHeight: number;
  /** Frames per second (low: text stays sharp, motion is rare). */
  fps: number;
  /** JPEG quality for browsers without a VP8 encoder, 0.1–1. */
  quality: number;
}

/** The JSON of `/api/media`. */
export interface MediaConfig {
  video: VideoBitrates;
  screen: ScreenMediaConfig;
  audio: { bitrate: number };
}

/** What the page uses when `/api/media` cannot be read, and the web plugin's defaults. */
export const DEFAULT_MEDIA_CONFIG: MediaConfig = {
  video: { bitrate: 500_000, minBitrate: 150_000 },
  screen: { maxWidth: 1920, maxHeight: 1080, fps: 5, bitrate: 1_500_000, minBitrate: 300_000, quality: 0.75 },
  audio: { bitrate: 32_000 },
};
