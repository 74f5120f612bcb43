/**
 * Bytes that pass for VP8 frames at the server (core/vp8.ts reads only the frame tag and a keyframe's start
 * code): for relay tests that need layered VP8 traffic without an encoder. Real VP8 comes from ffmpeg and
 * Chromium in the bots' and the browser's tests.
 */

/** A VP8 keyframe's 10-byte header (640×480) followed by `size - 10` bytes of `mark`. */
export function vp8Keyframe(mark: number, size = 1000): Uint8Array {
  const bytes = new Uint8Array(size).fill(mark);
  bytes.set([0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]);
  return bytes;
}

/** A VP8 delta frame: a frame tag with the inter-frame bit set, then `mark`. */
export function vp8Delta(mark: number, size = 300): Uint8Array {
  const bytes = new Uint8Array(size).fill(mark);
  bytes.set([0x01, 0x00, 0x00]);
  return bytes;
}

/**
 * The header fields of frame `index` of a stream in libvpx's 3-layer pattern 0-2-1-2 that starts with a
 * keyframe: its layer, whether it is a switch-up point, and its base-layer index.
 */
export function l1t3(index: number): { layer: number; switchUp: boolean; baseIndex: number } {
  const position = index % 4;
  return { layer: [0, 2, 1, 2][position]!, switchUp: position !== 3, baseIndex: Math.floor(index / 4) % 16 };
}
