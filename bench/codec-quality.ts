/**
 * How good the received picture is: the frames a receiving bot got are decoded with ffmpeg (VP8 or JPEG,
 * scaled to the clip's size if they came smaller), each is paired with the source frame it was made from,
 * and ffmpeg's `ssim` filter compares the pairs.
 *
 * Pairing is by sequence number: a publisher's frame n is the clip's frame n (the injector publishes the
 * clip once, frame by frame). A browser's camera starts somewhere in the looping clip and may skip frames,
 * so for it the offset is found by matching (each decoded frame against every clip frame, on a coarse luma
 * grid: the sensor noise makes every clip frame unique), the median offset taken, and each frame then
 * paired within ±2 frames of where its sequence number puts it.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ivfFileHeader, ivfFrame } from '../bots/media/ivf.js';
import { MediaCodec } from '../core/media.js';
import type { ReceivedFrame } from './codec-rig.js';

/** A decoded received frame: its sequence number and I420 bytes at the clip's size. */
export interface DecodedFrame {
  seq: number;
  i420: Buffer;
}

/** What the comparison found. */
export interface QualityResult {
  /** Mean SSIM over Y, U and V, as ffmpeg's `All`. */
  ssim: number;
  ssimY: number;
  /** Frames compared. */
  frames: number;
  /** How frames were paired: `seq` or `seq+offset` (the offset found, for a browser). */
  alignment: string;
}

/**
 * Decodes received frames with ffmpeg to I420 at width × height, keeping their sequence numbers.
 *
 * @throws Error when ffmpeg fails or the frames mix codecs.
 */
export function decodeReceived(frames: ReceivedFrame[], width: number, height: number): DecodedFrame[] {
  if (frames.length === 0) return [];
  const codec = frames[0]!.codec;
  if (frames.some((frame) => frame.codec !== codec)) throw new Error('the frames mix codecs');
  const fourcc = codec === MediaCodec.VP8 ? 'VP80' : codec === MediaCodec.JPEG ? 'MJPG' : undefined;
  if (!fourcc) throw new Error(`no decoder here for codec ${codec}`);
  const sorted = [...frames].sort((a, b) => a.seq - b.seq);
  const input = Buffer.concat([
    ivfFileHeader({ fourcc, width, height, timebaseDen: 1000, timebaseNum: 1 }),
    ...sorted.map((frame, i) => ivfFrame(i, frame.data)),
  ]);
  const result = spawnSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-f', 'ivf', '-i', 'pipe:0',
    '-vf', `scale=${width}:${height}`, '-fps_mode', 'passthrough', '-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1',
  ], { input, maxBuffer: 1024 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`ffmpeg could not decode the received frames: ${String(result.stderr).trim()}`);
  const frameBytes = (width * height * 3) / 2;
  const out = result.stdout as Buffer;
  const count = Math.floor(out.length / frameBytes);
  if (count !== sorted.length) throw new Error(`ffmpeg decoded ${count} pictures of ${sorted.length} frames`);
  return sorted.map((frame, i) => ({ seq: frame.seq, i420: out.subarray(i * frameBytes, (i + 1) * frameBytes) }));
}

/** A coarse luma fingerprint: every 8th pixel of every 8th row. */
function fingerprint(i420: Buffer, width: number, height: number): Int16Array {
  const out = new Int16Array(Math.ceil(width / 8) * Math.ceil(height / 8));
  let k = 0;
  for (let y = 0; y < height; y += 8) for (let x = 0; x < width; x += 8) out[k++] = i420[y * width + x]!;
  return out;
}

function distance(a: Int16Array, b: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum;
}

/**
 * Pairs decoded frames with clip frames: by sequence number, or (`search`) by sequence number plus an offset
 * found by matching, refined within ±2 frames.
 */
export function pairFrames(decoded: DecodedFrame[], clip: Buffer[], width: number, height: number, search: boolean): { pairs: Array<[Buffer, Buffer]>; alignment: string } {
  const length = clip.length;
  if (!search) {
    return { pairs: decoded.filter((d) => d.seq < length).map((d) => [d.i420, clip[d.seq]!]), alignment: 'seq' };
  }
  const prints = clip.map((frame) => fingerprint(frame, width, height));
  const best = (print: Int16Array, candidates: number[]) => candidates.reduce((a, b) => (distance(print, prints[b]!) < distance(print, prints[a]!) ? b : a));
  const all = [...Array(length).keys()];
  const offsets = decoded.map((d) => (best(fingerprint(d.i420, width, height), all) - (d.seq % length) + length) % length).sort((a, b) => a - b);
  const offset = offsets[Math.floor(offsets.length / 2)] ?? 0;
  const pairs = decoded.map((d): [Buffer, Buffer] => {
    const expected = (d.seq + offset) % length;
    const near = [-2, -1, 0, 1, 2].map((delta) => (expected + delta + length) % length);
    return [d.i420, clip[best(fingerprint(d.i420, width, height), near)]!];
  });
  return { pairs, alignment: `seq+${offset} (±2)` };
}

/**
 * SSIM of the pairs with ffmpeg's `ssim` filter.
 *
 * @throws Error when ffmpeg fails.
 */
export function ssimOf(pairs: Array<[Buffer, Buffer]>, width: number, height: number, dir: string, name: string): { all: number; y: number } {
  if (pairs.length === 0) return { all: 0, y: 0 };
  const received = join(dir, `${name}-received.yuv`);
  const reference = join(dir, `${name}-reference.yuv`);
  writeFileSync(received, Buffer.concat(pairs.map(([r]) => r)));
  writeFileSync(reference, Buffer.concat(pairs.map(([, s]) => s)));
  const raw = ['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-video_size', `${width}x${height}`, '-framerate', '15'];
  const result = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'info', ...raw, '-i', received, ...raw, '-i', reference, '-lavfi', 'ssim', '-f', 'null', '-'], { encoding: 'utf8' });
  const match = /SSIM Y:([\d.]+).*All:([\d.]+)/.exec(result.stderr);
  if (result.status !== 0 || !match) throw new Error(`ffmpeg ssim failed: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return { y: Number(match[1]), all: Number(match[2]) };
}

/**
 * Decodes, pairs and compares in one go.
 *
 * @example
 *   const quality = measureQuality(receiver.frames.get('injector')!, clipFrames, 640, 480, tmp, 'vp8', false);
 */
export function measureQuality(frames: ReceivedFrame[], clip: Buffer[], width: number, height: number, dir: string, name: string, search: boolean): QualityResult {
  const decoded = decodeReceived(frames, width, height);
  const { pairs, alignment } = pairFrames(decoded, clip, width, height, search);
  const { all, y } = ssimOf(pairs, width, height, dir, name);
  return { ssim: all, ssimY: y, frames: pairs.length, alignment };
}
