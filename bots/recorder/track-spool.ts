/**
 * One stream of a track file while the recording runs: its frames go, as they arrive, into a spool file of
 * their own in a format ffmpeg reads with timestamps and copies without re-encoding: IVF for VP8 and JPEG
 * (timestamps in ms from the sender's capture times), Ogg for Opus (granule positions), raw s16le for PCM.
 * The track writer muxes the spools of a participant into one file once it knows which streams there are
 * and where each starts (track-writer.ts).
 *
 * Audio frames are placed on a 20 ms grid by the sender's sequence number, so frames stay back to back when
 * their capture times come in bursts. When the capture time runs ahead of that place by more than
 * REANCHOR_FRAMES (the speaker was muted and sent nothing, or frames were lost), the frame is placed by its
 * capture time instead. A gap (at most MAX_GAP_FRAMES) is filled with silence: zeros in PCM, Opus's silent
 * frame in Opus, because not every player turns a gap in the timestamps into silence (ffmpeg's decoder
 * closes it up, which would pull the rest of the voice ahead of the video). A frame older than the last one
 * placed is dropped: the relay does not reorder.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { ConfabError } from '../../core/errors.js';
import { MediaCodec, type MediaFrame } from '../../core/media.js';
import { vp8KeyframeSize } from '../../core/vp8.js';
import { ivfFileHeader, ivfFrame } from '../media/ivf.js';
import { jpegSize } from '../media/jpeg-splitter.js';
import { OggOpusWriter, OPUS_SILENT_FRAME } from '../media/ogg-opus.js';
import { FRAME_BYTES, FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE } from '../media/pcm.js';

/** How far (20 ms frames) an audio frame's capture time may run ahead of its place by sequence number before it moves the frame. */
const REANCHOR_FRAMES = 10;
/**
 * The longest gap kept in an audio stream, in frames (10 minutes); a longer one is shortened to it, so that a
 * capture time far in the future (a sender's clock jumped) cannot make a track write hours of silence.
 */
const MAX_GAP_FRAMES = (10 * 60 * 1000) / FRAME_MS;

/** What a spool holds: the stream's kind, its codec as ffprobe names it, and how ffmpeg reads the spool. */
export interface SpoolFormat {
  type: 'video' | 'audio';
  codec: 'vp8' | 'mjpeg' | 'opus' | 'pcm_s16le';
  /** ffmpeg's input options for the spool file. */
  input: readonly string[];
  /** True when WebM can hold it (VP8, Opus); the others go into Matroska. */
  webm: boolean;
}

const FORMATS: Partial<Record<MediaCodec, SpoolFormat>> = {
  [MediaCodec.VP8]: { type: 'video', codec: 'vp8', input: ['-f', 'ivf'], webm: true },
  [MediaCodec.JPEG]: { type: 'video', codec: 'mjpeg', input: ['-f', 'ivf'], webm: false },
  [MediaCodec.OPUS]: { type: 'audio', codec: 'opus', input: ['-f', 'ogg'], webm: true },
  [MediaCodec.PCM_S16LE]: { type: 'audio', codec: 'pcm_s16le', input: ['-f', 's16le', '-ar', String(SAMPLE_RATE), '-ac', '1'], webm: false },
};

/** The spool format of a media codec, or undefined when a track cannot hold it. */
export function spoolFormatOf(codec: MediaCodec): SpoolFormat | undefined {
  return FORMATS[codec];
}

/**
 * How audio frames are placed: `capture` by the speaker's sequence numbers and capture times (a speaker's
 * own frames), `seq` by sequence number alone (the mix, whose ticks are gapless and whose capture times are
 * those of whoever spoke last).
 */
export type AudioTiming = 'capture' | 'seq';

/**
 * One stream's spool file.
 *
 * @example
 *   const spool = new TrackSpool(MediaCodec.OPUS, 'alice.audio.part', 'capture');
 *   track.on('frame', (frame) => spool.write(frame));
 *   await spool.close();
 */
export class TrackSpool {
  /** The spool file. */
  readonly path: string;
  /** The codec of every frame in it. */
  readonly codec: MediaCodec;
  /** What it holds and how ffmpeg reads it. */
  readonly format: SpoolFormat;
  /** Frames written. */
  frames = 0;
  /** The sender's capture time (ms since the epoch) at the stream's time 0; undefined until the first frame. */
  startCaptureMs: number | undefined;
  /** When the first frame was written (ms since the epoch, the recorder's clock). */
  firstArrivalMs: number | undefined;
  readonly #timing: AudioTiming;
  readonly #out: WriteStream;
  #error: Error | undefined;
  readonly #ogg = new OggOpusWriter();
  /** The last frame placed: its sequence number and its place (ms for video, 20 ms frames for audio). */
  #last: { seq: number; at: number } | undefined;
  /** Audio frames written so far, silence included: the place the next one would have without a gap. */
  #audioFrames = 0;

  /** Creates the spool file (never replacing one); `timing` matters for audio only. */
  constructor(codec: MediaCodec, path: string, timing: AudioTiming) {
    const format = spoolFormatOf(codec);
    if (!format) throw new RangeError(`codec ${codec} cannot be spooled into a track`);
    this.codec = codec;
    this.format = format;
    this.path = path;
    this.#timing = timing;
    this.#out = createWriteStream(path, { flags: 'wx' });
    this.#out.on('error', (error) => (this.#error ??= error));
  }

  /** Adds a frame; false when it was dropped (a VP8 delta before the first keyframe, or an audio frame out of order). */
  write(frame: MediaFrame): boolean {
    if (this.#error || frame.codec !== this.codec) return false;
    const first = this.startCaptureMs === undefined;
    if (first && this.codec === MediaCodec.VP8 && !frame.keyframe) return false;
    const bytes = this.format.type === 'video' ? this.#video(frame) : this.#audio(frame);
    if (!bytes) return false;
    if (first) this.firstArrivalMs = Date.now();
    this.#out.write(bytes);
    this.frames++;
    return true;
  }

  /**
   * Ends the spool file and waits until it is on disk.
   *
   * @throws ConfabError BOT_OUTPUT_INVALID when it could not be written.
   */
  async close(): Promise<void> {
    if (!this.#error && this.codec === MediaCodec.OPUS && this.frames > 0) this.#out.write(this.#ogg.end());
    await new Promise<void>((resolve) => this.#out.end(resolve));
    if (this.#error) throw new ConfabError('BOT_OUTPUT_INVALID', `could not write ${this.path}: ${this.#error.message}`, { cause: this.#error });
  }

  /** An IVF frame (after the file header for the first), at the capture time in ms since the first, never going back. */
  #video(frame: MediaFrame): Buffer {
    if (this.startCaptureMs === undefined) {
      this.startCaptureMs = frame.captureMs;
      const size = (this.codec === MediaCodec.VP8 ? vp8KeyframeSize(frame.data) : jpegSize(frame.data)) ?? { width: 0, height: 0 };
      const header = ivfFileHeader({ fourcc: this.codec === MediaCodec.VP8 ? 'VP80' : 'MJPG', ...size, timebaseDen: 1000, timebaseNum: 1 });
      this.#last = { seq: frame.seq, at: 0 };
      return Buffer.concat([header, ivfFrame(0, frame.data)]);
    }
    const pts = Math.max(this.#last!.at + 1, Math.round(frame.captureMs - this.startCaptureMs));
    this.#last = { seq: frame.seq, at: pts };
    return ivfFrame(pts, frame.data);
  }

  /** The bytes of an audio frame at its place, after silence for the gap before it (module comment); undefined when out of order. */
  #audio(frame: MediaFrame): Buffer | undefined {
    if (this.codec === MediaCodec.PCM_S16LE && frame.data.length !== FRAME_BYTES) return undefined;
    const place = this.#place(frame);
    if (place === undefined) return undefined;
    const parts: Buffer[] = [];
    if (this.codec === MediaCodec.OPUS) {
      if (this.frames === 0) parts.push(this.#ogg.headers());
      for (let silent = this.#audioFrames; silent < place; silent++) parts.push(this.#ogg.packet(OPUS_SILENT_FRAME, (silent + 1) * FRAME_SAMPLES));
      parts.push(this.#ogg.packet(frame.data, (place + 1) * FRAME_SAMPLES));
    } else {
      parts.push(Buffer.alloc((place - this.#audioFrames) * FRAME_BYTES), Buffer.from(frame.data));
    }
    this.#audioFrames = place + 1;
    return Buffer.concat(parts);
  }

  /** The place of an audio frame in the stream (in 20 ms frames from its first), or undefined when it comes after a later one. */
  #place(frame: MediaFrame): number | undefined {
    const last = this.#last;
    if (!last || this.startCaptureMs === undefined) {
      this.startCaptureMs = frame.captureMs;
      this.#last = { seq: frame.seq, at: 0 };
      return 0;
    }
    const ahead = (frame.seq - last.seq) | 0;
    if (ahead <= 0) return undefined;
    let place = last.at + ahead;
    if (this.#timing === 'capture') {
      const byClock = Math.round((frame.captureMs - this.startCaptureMs) / FRAME_MS);
      if (byClock - place > REANCHOR_FRAMES) place = byClock;
    }
    place = Math.min(place, last.at + 1 + MAX_GAP_FRAMES);
    this.#last = { seq: frame.seq, at: place };
    return place;
  }
}
