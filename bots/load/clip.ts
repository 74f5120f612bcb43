/**
 * The media the load tester's participants publish, made once per run and looped, so that a hundred bots
 * cost one encode: a VP8 clip of ffmpeg's `testsrc2` (a moving test card) with the same three temporal layers
 * as the injector (bots/media/vp8-settings.ts), and an Opus clip of a tone.
 *
 * The VP8 clip has one keyframe, its first frame, and a length that is a multiple of the layer pattern, so
 * looping keeps the pattern and the references right: the frame after the last is the keyframe again. A bot
 * answers a keyframe request by going back to the start.
 */
import { IvfReader } from '../media/ivf.js';
import { startFfmpeg } from '../media/ffmpeg-process.js';
import { FRAME_SAMPLES, SineTone } from '../media/pcm.js';
import { L1T3_PATTERN, l1t3, vp8EncoderArgs } from '../media/vp8-settings.js';
import { loadOpus } from '../../plugins/audio-mix/opus-codec.js';
import { ConfabError } from '../../core/errors.js';
import { vp8FrameKind } from '../../core/vp8.js';

/** One frame of the VP8 clip, with what its media header says. */
export interface ClipFrame {
  data: Buffer;
  keyframe: boolean;
  layer: number;
  switchUp: boolean;
}

/** Options of `encodeVideoClip`. */
export interface VideoClipOptions {
  width: number;
  height: number;
  fps: number;
  /** Target bitrate, bits per second. */
  bitrateBps: number;
  /** Length in seconds (rounded to whole layer patterns). Default 4. */
  seconds?: number;
}

/**
 * Encodes the VP8 clip with ffmpeg (a second or so of CPU for 4 s at 640×480).
 *
 * @throws ConfabError FFMPEG_NOT_FOUND, BOT_FFMPEG_FAILED.
 * @example
 *   const clip = await encodeVideoClip({ width: 320, height: 240, fps: 15, bitrateBps: 300_000 });
 *   video.publish(clip[i].data, { codec: MediaCodec.VP8, keyframe: clip[i].keyframe, layer: clip[i].layer, switchUp: clip[i].switchUp });
 */
export async function encodeVideoClip(options: VideoClipOptions): Promise<ClipFrame[]> {
  const period = L1T3_PATTERN.length;
  const frames = Math.max(period, Math.round(((options.seconds ?? 4) * options.fps) / period) * period);
  const ffmpeg = await startFfmpeg({
    label: 'the load clip encode',
    args: [
      '-f', 'lavfi', '-i', `testsrc2=size=${options.width}x${options.height}:rate=${options.fps}`, '-frames:v', String(frames),
      ...vp8EncoderArgs({ fps: options.fps, bitrateBps: options.bitrateBps }),
      '-f', 'ivf', 'pipe:1',
    ],
  });
  const clip: ClipFrame[] = [];
  const reader = new IvfReader(({ data }) => {
    const keyframe = vp8FrameKind(data) === 'keyframe';
    clip.push({ data, keyframe, ...(keyframe ? { layer: 0, switchUp: true } : l1t3(clip.length)) });
  });
  ffmpeg.stdout.on('data', (chunk: Buffer) => reader.push(chunk));
  await ffmpeg.finish();
  if (clip.length !== frames || !clip[0]?.keyframe) {
    throw new ConfabError('BOT_FFMPEG_FAILED', `the load clip came out as ${clip.length} frames (${frames} asked for) without a first keyframe`);
  }
  return clip;
}

/**
 * Encodes one second of a tone as 50 Opus packets (a whole number of periods, so the loop is seamless), or
 * resolves undefined when no Opus codec loads here.
 *
 * @example
 *   const packets = await encodeAudioClip(440);
 *   audio.publishEncoded(packets[i % 50], 'opus');
 */
export async function encodeAudioClip(frequency: number): Promise<Uint8Array[] | undefined> {
  const opus = await loadOpus(() => {});
  if (!opus) return undefined;
  const encoder = opus.createEncoder();
  const tone = new SineTone(Math.round(frequency), 0.1);
  const packets: Uint8Array[] = [];
  for (let i = 0; i < 48_000 / FRAME_SAMPLES; i++) packets.push(encoder.encode(tone.next()));
  return packets;
}
