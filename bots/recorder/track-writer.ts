/**
 * One track file of the track recording: an ffmpeg that copies the frames it is given into a container
 * without re-encoding (`-c copy`). The frames come in a stream ffmpeg can read with their timestamps:
 * IVF for video (VP8 into WebM; JPEG, which WebM cannot hold, into Matroska), Ogg for Opus (into WebM),
 * raw s16le for a PCM mix (into Matroska). ffmpeg starts the file's clock at its first frame.
 */
import { MediaCodec, type MediaFrame } from '../../core/media.js';
import { vp8KeyframeSize } from '../../core/vp8.js';
import { startFfmpeg, type FfmpegProcess } from '../media/ffmpeg-process.js';
import { ivfFileHeader, ivfFrame } from '../media/ivf.js';
import { jpegSize } from '../media/jpeg-splitter.js';
import { OggOpusWriter } from '../media/ogg-opus.js';
import { FRAME_BYTES, FRAME_SAMPLES } from '../media/pcm.js';

/** The kinds of track a writer makes, and their file extension. */
export const TRACK_FORMATS = {
  vp8: { extension: '.webm', codec: 'vp8' },
  jpeg: { extension: '.mkv', codec: 'mjpeg' },
  opus: { extension: '.webm', codec: 'opus' },
  pcm: { extension: '.mkv', codec: 'pcm_s16le' },
} as const;

/** A track kind. */
export type TrackFormat = keyof typeof TRACK_FORMATS;

/** The track format of a media frame's codec, or undefined when it cannot be copied into a track. */
export function trackFormatOf(codec: MediaCodec): TrackFormat | undefined {
  switch (codec) {
    case MediaCodec.VP8: return 'vp8';
    case MediaCodec.JPEG: return 'jpeg';
    case MediaCodec.OPUS: return 'opus';
    case MediaCodec.PCM_S16LE: return 'pcm';
    default: return undefined;
  }
}

/** Most silent PCM frames written for a gap (a minute); a longer gap is left short. */
const MAX_GAP_FRAMES = 3000;

/**
 * Copies one stream into one file.
 *
 * @example
 *   const writer = new TrackWriter('vp8', 'alice.webm');
 *   video.on('frame', (frame) => writer.write(frame));
 *   await writer.finish();
 */
export class TrackWriter {
  /** What kind of track it writes. */
  readonly format: TrackFormat;
  /** The file it writes. */
  readonly path: string;
  /** Frames written. */
  frames = 0;
  #process: Promise<FfmpegProcess> | undefined;
  #first: { captureMs: number; seq: number } | undefined;
  #lastPts = -1;
  #nextSeq = 0;
  readonly #ogg = new OggOpusWriter();

  constructor(format: TrackFormat, path: string) {
    this.format = format;
    this.path = path;
  }

  /** Adds a frame (the first of a VP8 track must be a keyframe; the client halves see to that). */
  write(frame: MediaFrame): void {
    if (!this.#process) this.#process = this.#start(frame);
    const bytes = this.#encapsulate(frame);
    if (bytes.length === 0) return;
    this.frames++;
    void this.#process.then((process) => process.stdin.write(bytes), () => {});
  }

  /** Ends the input and waits for the file; rejects with BOT_FFMPEG_FAILED. A writer never written to is a no-op. */
  async finish(): Promise<void> {
    if (!this.#process) return;
    const process = await this.#process;
    if (this.format === 'opus') process.stdin.write(this.#ogg.end());
    await process.finish();
  }

  async #start(first: MediaFrame): Promise<FfmpegProcess> {
    this.#first = { captureMs: first.captureMs, seq: first.seq };
    this.#nextSeq = first.seq;
    const input = {
      vp8: ['-f', 'ivf'],
      jpeg: ['-f', 'ivf'],
      opus: ['-f', 'ogg'],
      pcm: ['-f', 's16le', '-ar', '48000', '-ac', '1'],
    }[this.format];
    const muxer = TRACK_FORMATS[this.format].extension === '.webm' ? 'webm' : 'matroska';
    const process = await startFfmpeg({
      label: `the track ${this.path}`,
      args: [...input, '-probesize', '32', '-analyzeduration', '0', '-i', 'pipe:0', '-c', 'copy', '-f', muxer, '-y', this.path],
    });
    process.stdin.write(this.#fileHeader(first));
    return process;
  }

  #fileHeader(first: MediaFrame): Buffer {
    if (this.format === 'opus') return this.#ogg.headers();
    if (this.format === 'pcm') return Buffer.alloc(0);
    const size = (this.format === 'vp8' ? vp8KeyframeSize(first.data) : jpegSize(first.data)) ?? { width: 0, height: 0 };
    return ivfFileHeader({ fourcc: this.format === 'vp8' ? 'VP80' : 'MJPG', ...size, timebaseDen: 1000, timebaseNum: 1 });
  }

  /** The bytes that carry one frame, with its time since the first frame. */
  #encapsulate(frame: MediaFrame): Buffer {
    const first = this.#first!;
    if (this.format === 'opus') {
      // Mix frames are 20 ms ticks: the sequence number places them, a gap stays a gap.
      return this.#ogg.packet(frame.data, ((frame.seq - first.seq + 1) >>> 0) * FRAME_SAMPLES);
    }
    if (this.format === 'pcm') return this.#pcm(frame);
    // Video keeps the sender's spacing of capture times, in ms, never going back.
    const pts = Math.max(this.#lastPts + 1, Math.round(frame.captureMs - first.captureMs));
    this.#lastPts = pts;
    return ivfFrame(pts, frame.data);
  }

  /** A PCM mix frame, after silence for the frames lost before it. */
  #pcm(frame: MediaFrame): Buffer {
    if (frame.data.length !== FRAME_BYTES) return Buffer.alloc(0);
    const missing = Math.min(MAX_GAP_FRAMES, (frame.seq - this.#nextSeq) >>> 0);
    this.#nextSeq = (frame.seq + 1) >>> 0;
    return Buffer.concat([Buffer.alloc(missing < MAX_GAP_FRAMES ? missing * FRAME_BYTES : 0), frame.data]);
  }
}
