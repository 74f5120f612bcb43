/**
 * The track recording (`confab bot record --tracks DIR`), like LiveKit's track egress: one file per
 * participant holding its camera and its microphone as they were sent, copied without re-encoding (VP8 and
 * Opus into WebM; JPEG video or PCM audio into Matroska), lined up by the sender's capture times; a file per
 * screen share; the room's audio mix as its own file (Opus into WebM; a PCM mix into Matroska); and
 * `tracks.json` saying which file holds whom and when each started, so the files can be lined up with each
 * other. A participant's microphone comes from the audio-mix plugin's `tracks` op (the recorder asks for it).
 *
 * A participant's file is written when it leaves (or when the recording ends); a participant who changes the
 * codec of a stream gets a new file from then on (whose video starts at the next keyframe). File names are
 * made from the participant's name and session id, reduced to safe characters; an existing file is never
 * overwritten.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfabError } from '../../core/errors.js';
import type { MediaFrame } from '../../core/media.js';
import { spoolFormatOf } from './track-spool.js';
import { TRACK_EXTENSIONS, TrackWriter, type TrackStream } from './track-writer.js';

/** One file of a track recording, as `tracks.json` lists it. */
export interface TrackFile {
  /** The file name inside the tracks directory. */
  file: string;
  /** `participant` (camera and microphone) or `screen` (one participant's), or `mix` (the room's audio). */
  kind: 'participant' | 'screen' | 'mix';
  /** Whose camera and microphone, or screen (absent for the mix). */
  participant?: { id: string; name: string };
  /** When the frame at the file's time 0 arrived, ms after the recording started. */
  startMs: number;
  /** Its streams (video first), each with its codec, its offset in the file and its frame count. */
  streams: TrackStream[];
}

/** A participant or a presenter. */
type Who = { id: string; name: string };

/** An open file: its writer and what `tracks.json` will say of it. */
interface OpenTrack {
  writer: TrackWriter;
  kind: TrackFile['kind'];
  participant?: Who;
}

/** Writes the tracks of one recording. */
export class TrackRecorder {
  /** The tracks directory. */
  readonly dir: string;
  readonly #startedAt: number;
  readonly #log: (line: string) => void;
  /** Open files: a participant's by its id, a screen share's by `screen:<id>`, the mix's by the empty id. */
  readonly #open = new Map<string, OpenTrack>();
  /** Every base name given out, so that no two files share one. */
  readonly #bases = new Set<string>();
  readonly #finishing: Promise<TrackFile | undefined>[] = [];

  /** `startedAt` is the recording's start (ms since the epoch). Creates `dir` if needed. */
  constructor(dir: string, startedAt: number, log: (line: string) => void) {
    mkdirSync(dir, { recursive: true });
    this.dir = dir;
    this.#startedAt = startedAt;
    this.#log = log;
  }

  /**
   * A frame of a participant's camera (as the video client half gives them: a decoder can take them) or
   * microphone (as the speaker sent it: the audio client half's `track` event).
   */
  participant(participant: Who, frame: MediaFrame): void {
    this.#write(participant.id, frame, 'participant', participant);
  }

  /** A frame of a participant's screen share (its file is closed with `close('screen:' + id)`). */
  screen(presenter: Who, frame: MediaFrame): void {
    this.#write(`screen:${presenter.id}`, frame, 'screen', presenter);
  }

  /** A frame of the room's mix, as it arrived (Opus or PCM). */
  mix(frame: MediaFrame): void {
    this.#write('', frame, 'mix');
  }

  /** A participant left (or a share ended): its file is written. */
  close(id: string): void {
    const open = this.#open.get(id);
    if (!open) return;
    this.#open.delete(id);
    this.#finishing.push(this.#finish(open));
  }

  /** Writes every file and `tracks.json`; resolves with the files written, in the order they start. */
  async finish(): Promise<TrackFile[]> {
    for (const id of [...this.#open.keys()]) this.close(id);
    const written = (await Promise.all(this.#finishing)).filter((file): file is TrackFile => file !== undefined);
    written.sort((a, b) => a.startMs - b.startMs || a.file.localeCompare(b.file));
    await writeFile(join(this.dir, 'tracks.json'), `${JSON.stringify({ startedAt: this.#startedAt, tracks: written }, null, 2)}\n`);
    return written;
  }

  #write(id: string, frame: MediaFrame, kind: TrackFile['kind'], participant?: Who): void {
    const format = spoolFormatOf(frame.codec);
    if (!format) return;
    let open = this.#open.get(id);
    const codec = open?.writer.codec(format.type);
    if (codec !== undefined && codec !== frame.codec) {
      this.close(id);
      open = undefined;
    }
    if (!open) {
      const who = participant ? `${safe(participant.name)}-${safe(participant.id).slice(0, 8)}` : '';
      const name = kind === 'mix' ? 'mix' : kind === 'screen' ? `${who}-screen` : who;
      const writer = new TrackWriter(join(this.dir, this.#unusedBase(name)), kind === 'mix' ? 'seq' : 'capture');
      open = { writer, kind, ...(participant ? { participant: { id: participant.id, name: participant.name } } : {}) };
      this.#open.set(id, open);
    }
    open.writer.write(frame);
  }

  #unusedBase(name: string): string {
    const taken = (base: string) => this.#bases.has(base)
      || [...TRACK_EXTENSIONS.map((extension) => `${base}${extension}`), ...TrackWriter.spoolPaths(base)].some((file) => existsSync(join(this.dir, file)));
    let base = name;
    for (let n = 2; taken(base); n++) base = `${name}-${n}`;
    this.#bases.add(base);
    return base;
  }

  async #finish(open: OpenTrack): Promise<TrackFile | undefined> {
    try {
      const written = await open.writer.finish();
      if (!written) return undefined;
      return {
        file: written.file,
        kind: open.kind,
        ...(open.participant ? { participant: open.participant } : {}),
        startMs: written.firstArrivalMs - this.#startedAt,
        streams: written.streams,
      };
    } catch (error) {
      this.#log(`track ${open.writer.base}: ${(error as ConfabError).message}`);
      return undefined;
    }
  }
}

/** A name reduced to characters safe in a file name on every system. */
function safe(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[._]+/, '').slice(0, 40) || 'participant';
}
