/**
 * What the server and the clients read of a VP8 frame (RFC 6386, 9.1): whether it is a keyframe, and a
 * keyframe's picture size. Nothing is decoded. Works in Node and in the browser.
 *
 * Every VP8 frame starts with a 3-byte frame tag whose lowest bit is 0 for a keyframe; a keyframe goes on
 * with the start code 9d 01 2a and two 16-bit little-endian sizes (14 bits each, 2 bits of scaling).
 */

/** Bytes of a keyframe's tag, start code and sizes. */
const KEYFRAME_HEADER_BYTES = 10;
const START_CODE = [0x9d, 0x01, 0x2a] as const;

/** What the first bytes of a VP8 frame say it is; `malformed` when they cannot be a VP8 frame. */
export type Vp8FrameKind = 'keyframe' | 'delta' | 'malformed';

/**
 * Reads the frame tag (and a keyframe's start code).
 *
 * @example
 *   vp8FrameKind(chunk)  // 'keyframe' for the first frame a VideoEncoder gives
 */
export function vp8FrameKind(data: Uint8Array): Vp8FrameKind {
  if (data.length < 3) return 'malformed';
  if ((data[0]! & 0x01) !== 0) return 'delta';
  if (data.length < KEYFRAME_HEADER_BYTES) return 'malformed';
  return data[3] === START_CODE[0] && data[4] === START_CODE[1] && data[5] === START_CODE[2] ? 'keyframe' : 'malformed';
}

/**
 * The picture size a keyframe announces, or undefined for anything else.
 *
 * @example
 *   vp8KeyframeSize(keyframe)  // { width: 640, height: 480 }
 */
export function vp8KeyframeSize(data: Uint8Array): { width: number; height: number } | undefined {
  if (vp8FrameKind(data) !== 'keyframe') return undefined;
  return { width: (data[6]! | (data[7]! << 8)) & 0x3fff, height: (data[8]! | (data[9]! << 8)) & 0x3fff };
}
