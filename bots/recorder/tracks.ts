/**
 * The track recording (`confab bot record --tracks DIR`), like LiveKit's track egress: each participant's
 * camera (and each screen share) as it was sent, copied into a file of its own without re-encoding (VP8 into
 * WebM, JPEG into Matroska), and the room's audio mix as its own track (Opus into WebM; a PCM mix into
 * Matroska), plus `tracks.json` saying which file holds whom and when each started, so the files can be
 * lined up.
 *
 * Per-participant audio is not recorded: the audio-mix plugin sends a listener only the mix of everyone
 * (minus the listener), never a participant's own packets. File names are made from the participant's
 * name and session id, reduced to safe characters; an existing file is never overwritten.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfabError } from '../../core/errors.js';
import type { MediaFrame } from '../../core/media.js';
import { TRACK_FORMATS, TrackWriter, trackFormatOf, type TrackFormat } from './track-writer.js';

/** One file of a track recording, as `tracks.json` lists it. */
export interface TrackFile {
  /** The file name inside the tracks directory. */
  file: string;
  /** `camera` or `screen` (one participant's), or `mix` (the room's audio). */
  kind: 'camera' | 'screen' | 'mix';
  /** Whose camera or screen (absent for the mix). */
  participant?: { id: string; name: string };
  /** The codec in the file, as ffprobe names it. */
  codec: string;
  /** When its first frame arrived, ms after the recording started. */
  startMs: number;
  /** Frames copied. */
  frames: number;
}

/** Writes the tracks of one recording. */
export class TrackRecorder {
  /** The tracks directory. */
  readonly dir: string;
  readonly #startedAt: number;
  readonly #log: (line: string) => void;
  /** Open writers: by participant id (the mix under the empty id). */
  readonly #open = new Map<string, { writer: TrackWriter; entry: TrackFile }>();
  readonly #files: TrackFile[] = [];
  readonly #finishing: Promise<void>[] = [];

  /** `startedAt` is the recording's start (ms since the epoch). Creates `dir` if needed. */
  constructor(dir: string, startedAt: number, log: (line: string) => void) {
    mkdirSync(dir, { recursive: true });
    this.dir = dir;
    this.#startedAt = startedAt;
    this.#log = log;
  }

  /** A frame of a participant's camera (frames a decoder can take, keyframe first, as the client half gives). */
  camera(participant: { id: string; name: string }, frame: MediaFrame): void {
    this.#write(participant.id, frame, () => ({ kind: 'camera', participant: { id: participant.id, name: participant.name } }));
  }

  /** A frame of a participant's screen share (its track is closed with `close('screen:' + id)`). */
  screen(presenter: { id: string; name: string }, frame: MediaFrame): void {
    this.#write(`screen:${presenter.id}`, frame, () => ({ kind: 'screen', participant: { id: presenter.id, name: presenter.name } }));
  }

  /** A frame of the room's mix, as it arrived (Opus or PCM). */
  mix(frame: MediaFrame): void {
    this.#write('', frame, () => ({ kind: 'mix' }));
  }

  /** A participant left (or turned the camera off for good): its file is finished. */
  close(id: string): void {
    const open = this.#open.get(id);
    if (!open) return;
    this.#open.delete(id);
    this.#finishing.push(this.#finishWriter(open.writer));
  }

  /** Finishes every file and writes `tracks.json`; resolves with the files written. */
  async finish(): Promise<TrackFile[]> {
    for (const id of [...this.#open.keys()]) this.close(id);
    await Promise.all(this.#finishing);
    const written = this.#files.filter((file) => file.frames > 0);
    await writeFile(join(this.dir, 'tracks.json'), `${JSON.stringify({ startedAt: this.#startedAt, tracks: written }, null, 2)}\n`);
    return written;
  }

  #write(id: string, frame: MediaFrame, describe: () => Pick<TrackFile, 'kind' | 'participant'>): void {
    const format = trackFormatOf(frame.codec);
    if (!format) return;
    let open = this.#open.get(id);
    // A participant who changes codec gets a new file.
    if (open && open.writer.format !== format) {
      this.close(id);
      open = undefined;
    }
    if (!open) {
      const base = describe();
      const who = base.participant ? `${safe(base.participant.name)}-${safe(base.participant.id).slice(0, 8)}` : '';
      const name = base.kind === 'mix' ? 'mix' : base.kind === 'screen' ? `${who}-screen` : who;
      const file = this.#unusedName(name, format);
      const entry: TrackFile = { file, ...base, codec: TRACK_FORMATS[format].codec, startMs: Date.now() - this.#startedAt, frames: 0 };
      open = { writer: new TrackWriter(format, join(this.dir, file)), entry };
      this.#open.set(id, open);
      this.#files.push(entry);
    }
    open.writer.write(frame);
    open.entry.frames = open.writer.frames;
  }

  #unusedName(name: string, format: TrackFormat): string {
    const extension = TRACK_FORMATS[format].extension;
    const taken = (file: string) => existsSync(join(this.dir, file)) || this.#files.some((entry) => entry.file === file);
    let file = `${name}${extension}`;
    for (let n = 2; taken(file); n++) file = `${name}-${n}${extension}`;
    return file;
  }

  async #finishWriter(writer: TrackWriter): Promise<void> {
    await writer.finish().catch((error: ConfabError) => this.#log(`track ${writer.path}: ${error.message}`));
  }
}

/** A name reduced to characters safe in a file name on every system. */
function safe(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[._]+/, '').slice(0, 40) || 'participant';
}
