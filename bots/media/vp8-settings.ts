/**
 * How the bots encode VP8 with libvpx through ffmpeg: three temporal layers (`L1T3`) in libvpx's pattern
 * 0-2-1-2, and the settings that make dropping layers safe.
 *
 * Verified with Debian's ffmpeg 5.1 by decoding layer subsets and comparing framemd5 with the full decode:
 * - frame i (counted from the encoder's start, frame 0 a keyframe) is in layer `[0, 2, 1, 2][i % 4]`;
 * - switch-up points are the layer-0 frames, every layer-1 frame (i % 4 = 2) and the first layer-2 frame
 *   (i % 4 = 1); the second layer-2 frame (i % 4 = 3) references the layer-1 frame before it;
 * - `-error-resilient 1` is required: without it the entropy contexts carry over from frames a relay left out
 *   and the picture breaks.
 * Keyframes come only when asked for (the first frame, and a new encoder on a request): `-g` is huge.
 */

/** The temporal layer of each frame position in libvpx's 3-layer pattern (`ts_layering_mode=3`). */
export const L1T3_PATTERN = [0, 2, 1, 2] as const;

/** Share of the total bitrate each layer reaches, cumulative (base, base+1, all). */
const LAYER_RATE_SHARES = [0.5, 0.75, 1] as const;

/** What the header says about frame `index` of an encoder's output (0: its first frame, a keyframe). */
export interface LayerInfo {
  /** Temporal layer id, 0–2. */
  layer: number;
  /** A receiver may start taking this frame's layer here. */
  switchUp: boolean;
}

/**
 * The layer and switch-up flag of frame `index` since the encoder started.
 *
 * @example
 *   l1t3(3)  // { layer: 2, switchUp: false }
 */
export function l1t3(index: number): LayerInfo {
  const position = index % L1T3_PATTERN.length;
  return { layer: L1T3_PATTERN[position]!, switchUp: position !== 3 };
}

/** What is encoded: a camera (motion) or a screen (text, little motion). */
export type VideoContent = 'camera' | 'screen';

/** Options of `vp8EncoderArgs`. */
export interface Vp8EncodeSettings {
  /** Frames per second the input comes at. */
  fps: number;
  /** Target bitrate of all three layers together, bits per second. */
  bitrateBps: number;
  /** Default camera. */
  content?: VideoContent;
}

/**
 * ffmpeg's output options for layered VP8 at a target bitrate. Rate control is libvpx's VBR with a two-second
 * buffer: on the codec bench's talking-head clip, CBR with a one-second buffer (what WebRTC does) cost 0.011
 * SSIM at the same rate (0.970 against 0.981 at 500 kbit/s), and libvpx with three layers stays under its
 * target either way (about 75–80 % of it), so nothing is gained by the stricter mode.
 *
 * @example
 *   ['-f', 'rawvideo', …, '-i', 'pipe:0', ...vp8EncoderArgs({ fps: 15, bitrateBps: 500_000 }), '-f', 'ivf', 'pipe:1']
 */
export function vp8EncoderArgs(settings: Vp8EncodeSettings): string[] {
  const kbps = Math.max(10, Math.round(settings.bitrateBps / 1000));
  const layerKbps = LAYER_RATE_SHARES.map((share) => Math.max(1, Math.round(kbps * share)));
  const ts = [
    'ts_number_layers=3',
    `ts_target_bitrate=${layerKbps.join(',')}`,
    'ts_rate_decimator=4,2,1',
    'ts_periodicity=4',
    `ts_layer_id=${L1T3_PATTERN.join(',')}`,
    'ts_layering_mode=3',
  ].join(':');
  return [
    '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-threads', '1',
    '-error-resilient', '1', '-auto-alt-ref', '0', '-lag-in-frames', '0',
    '-g', '1000000', '-drop-threshold', '0',
    '-b:v', `${kbps}k`, '-bufsize', `${kbps * 2}k`,
    ...(settings.content === 'screen' ? ['-static-thresh', '100', '-sharpness', '0'] : []),
    '-ts-parameters', ts,
    '-pix_fmt', 'yuv420p',
  ];
}
