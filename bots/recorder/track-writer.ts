/**
 * One file of the track recording: a participant's camera and microphone together (or a screen share, or the
 * room's mix). Each stream is spooled while the recording runs (track-spool.ts) and the spools are muxed into
 * the file when the writer finishes, once it is known which streams there are: `ffmpeg -c copy`, never
 * re-encoding, one input per stream, the later stream shifted by `-itsoffset` so that both keep the sender's
 * timing. The streams are lined up by the capture times in their media headers, which come from the
 * sender's one clock, so network delay and the relay do not move one against the other.
 *
 * WebM when every stream is VP8 or Opus, else Matroska (JPEG video, PCM audio). The spools are removed once
 * the file is written; when ffmpeg fails they stay (ffmpeg reads them: IVF, Ogg, raw s16le), and the error
 * says where.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { ConfabError } from '../../core/errors.js';
import type { MediaCodec, MediaFrame } from '../../core/media.js';
import { startFfmpeg } from '../media/ffmpeg-process.js';
import { TrackSpool, spoolFormatOf, type AudioTiming, type SpoolFormat } from './track-spool.js';

/** The file extensions a track file may get. */
export const TRACK_EXTENSIONS = ['.webm', '.mkv'] as const;

/** One stream of a track file, as `tracks.json` lists it. */
export interface TrackStream {
  /** `video` or `audio`. */
  type: SpoolFormat['type'];
  /** Its codec, as ffprobe names it. */
  codec: SpoolFormat['codec'];
  /** Where it starts in the file, ms (from the sender's capture times; 0 for the stream that starts first). */
  offsetMs: number;
  /** Frames copied. */
  frames: number;
}

/** A finished track file. */
export interface WrittenTrack {
  /** The file's name (in the writer's directory). */
  file: string;
  /** Its streams, video first. */
  streams: TrackStream[];
  /** When the frame at the file's time 0 arrived (ms since the epoch, the recorder's clock). */
  firstArrivalMs: number;
}

/**
 * Spools up to one video and one audio stream, and muxes them into `<base>.webm` or `<base>.mkv`.
 *
 * @example
 *   const writer = new TrackWriter('tracks/alice-1a2b3c4d', 'capture');
 *   video.on('frame', (frame) => writer.write(frame));
 *   audio.on('track', (frame) => writer.write(frame));
 *   const written = await writer.finish();   // { file: 'alice-1a2b3c4d.webm', streams: [vp8, opus], … }
 */
export class TrackWriter {
  /** The file's path without its extension; the spools are `<base>.video.part` and `<base>.audio.part`. */
  readonly base: string;
  readonly #timing: AudioTiming;
  readonly #spools: { video?: TrackSpool; audio?: TrackSpool } = {};

  /** `timing` places the audio frames (track-spool.ts): `capture` for a speaker, `seq` for the mix. */
  constructor(base: string, timing: AudioTiming) {
    this.base = base;
    this.#timing = timing;
  }

  /** The spool files this writer may create, for choosing an unused base. */
  static spoolPaths(base: string): string[] {
    return [`${base}.video.part`, `${base}.audio.part`];
  }

  /** The codec of the writer's stream of that type, if it has one. */
  codec(type: SpoolFormat['type']): MediaCodec | undefined {
    return this.#spools[type]?.codec;
  }

  /** Adds a frame to its stream (a codec no track holds, or another codec than the stream's, is ignored); false when not written. */
  write(frame: MediaFrame): boolean {
    const format = spoolFormatOf(frame.codec);
    if (!format) return false;
    const spool = (this.#spools[format.type] ??= new TrackSpool(frame.codec, `${this.base}.${format.type}.part`, this.#timing));
    return spool.write(frame);
  }

  /**
   * Closes the spools and muxes them into the file; resolves with it, or undefined when no frame was written.
   *
   * @throws ConfabError BOT_FFMPEG_FAILED (the spools are kept), BOT_OUTPUT_INVALID (a spool could not be written).
   */
  async finish(): Promise<WrittenTrack | undefined> {
    const all = [this.#spools.video, this.#spools.audio].filter((spool): spool is TrackSpool => spool !== undefined);
    await Promise.all(all.map((spool) => spool.close()));
    const empty = all.filter((spool) => spool.startCaptureMs === undefined);
    await Promise.all(empty.map((spool) => rm(spool.path, { force: true })));
    const spools = all.filter((spool) => spool.startCaptureMs !== undefined);
    if (spools.length === 0) return undefined;

    const zero = Math.min(...spools.map((spool) => spool.startCaptureMs!));
    const streams = spools.map((spool): TrackStream => ({
      type: spool.format.type,
      codec: spool.format.codec,
      offsetMs: Math.round(spool.startCaptureMs! - zero),
      frames: spool.frames,
    }));
    const webm = spools.every((spool) => spool.format.webm);
    const path = `${this.base}${webm ? '.webm' : '.mkv'}`;
    if (existsSync(path)) throw new ConfabError('BOT_OUTPUT_INVALID', `${path} appeared during the recording; the track stays in ${spools.map((spool) => spool.path).join(' and ')}`);
    const inputs = spools.flatMap((spool, i) => [
      ...(streams[i]!.offsetMs > 0 ? ['-itsoffset', (streams[i]!.offsetMs / 1000).toFixed(3)] : []),
      ...spool.format.input,
      '-i', spool.path,
    ]);
    const maps = spools.flatMap((_, i) => ['-map', `${i}:0`]);
    const ffmpeg = await startFfmpeg({
      label: `the track ${path}`,
      args: ['-nostdin', ...inputs, ...maps, '-c', 'copy', '-f', webm ? 'webm' : 'matroska', path],
    });
    try {
      await ffmpeg.finish();
    } catch (error) {
      const kept = spools.map((spool) => spool.path).join(' and ');
      throw new ConfabError('BOT_FFMPEG_FAILED', `${(error as Error).message}; the streams stay in ${kept}`, { cause: error });
    }
    await Promise.all(spools.map((spool) => rm(spool.path, { force: true })));
    const first = spools.find((spool) => spool.startCaptureMs === zero)!;
    return { file: basename(path), streams, firstArrivalMs: first.firstArrivalMs! };
  }
}
