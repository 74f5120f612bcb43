/**
 * The recorder bot: joins a room as a listener and writes one file with the room's audio mix and a video
 * of the meeting (a grid of the participants' cameras, VP8 or JPEG, or the screen share while one is on),
 * plus the chat transcript beside it (`<out>.chat.jsonl`) and the files shared during the recording (in
 * `<out>.files/`). With `tracksDir` it also asks the audio-mix plugin for each speaker's own frames and writes
 * each participant's camera and microphone into a file of its own without re-encoding (tracks.ts).
 *
 * A wall-clock timeline feeds ffmpeg at a constant rate (silence when no mix arrived, the last grid frame
 * again when nothing changed), so the file lasts as long as the recording. It stops on its signal
 * (Ctrl-C or SIGTERM in the CLI), when the last other participant leaves, or after `maxDurationS`, and always
 * finishes the file so that it plays.
 *
 * Nothing is written before the recording can start: the output name is checked first, and an empty room is
 * an error (BOT_ROOM_EMPTY, naming the rooms in use) unless `waitForPeers`. After a failure no empty file is
 * left behind.
 */
import { accessSync, constants, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfabError } from '../../core/errors.js';
import type { ConfabClient } from '../../core/client/node.js';
import { createBotClient, botServerUrl } from '../clients.js';
import { FRAME_SAMPLES } from '../media/pcm.js';
import { checkSinkOutput, startSink, type MediaSink } from '../media/sink.js';
import { GridCompositor } from './grid.js';
import { emptyRoomHint, roomsInUse } from './room-hint.js';
import { Timeline } from './timeline.js';
import { TrackRecorder, type TrackFile } from './tracks.js';
import { Transcript } from './transcript.js';
import { RecorderVideo } from './video-input.js';

/** Options of `record`. */
export interface RecorderOptions {
  /** `host:port`, `tcp://…` or `ws://…`. */
  server: string;
  room: string;
  /** The output file (`.mkv` or `.webm`). */
  out: string;
  /** Replace `out` if it exists. Default false: an existing file is an error. */
  overwrite?: boolean;
  /** Also write each participant's own camera and microphone (one file each), and the mix, into this directory. */
  tracksDir?: string;
  /** Display name; default `recorder`. */
  name?: string;
  /** Video size and rate; default 640×480 at 15 fps. */
  width?: number;
  height?: number;
  fps?: number;
  /** Stop when the last other participant leaves. Default true. */
  stopWhenEmpty?: boolean;
  /** When the room is empty on joining, wait for someone (true) instead of failing. Default false. */
  waitForPeers?: boolean;
  /** Stop after this many seconds of recording. */
  maxDurationS?: number;
  /** Stop when this aborts. */
  signal?: AbortSignal;
  /** Progress lines (joined, stopped…); default none. */
  log?: (line: string) => void;
}

/** What a recording produced. */
export interface RecordingResult {
  out: string;
  transcript: string;
  /** Paths of the shared files saved. */
  files: string[];
  /** The track files, when tracks were recorded. */
  tracks?: TrackFile[];
  /** Why it stopped: `signal`, `empty`, `duration`, `disconnected`, `ffmpeg`. */
  reason: string;
  /** Seconds of media written. */
  durationS: number;
  /** Wall-clock times (ms since epoch) the timeline started and stopped: the time recorded. */
  startedAt: number;
  stoppedAt: number;
  written: { audioFrames: number; videoFrames: number };
  received: { mixFrames: number; cameraFrames: number; screenFrames: number; chatMessages: number };
  /** Mix frames that arrived while 10 were already waiting (the oldest were dropped). */
  droppedMixFrames: number;
}

/** Mix frames held for the timeline; beyond this the oldest go (the network ran ahead of the clock). */
const MAX_QUEUED_MIX = 10;

/**
 * Records a room until it stops; resolves once the file is complete.
 *
 * @throws ConfabError BOT_OUTPUT_INVALID (a name it cannot write, or an existing file), BOT_ROOM_EMPTY,
 *   a connection error, BOT_FFMPEG_FAILED.
 * @example
 *   const result = await record({ server: '127.0.0.1:5000', room: 'lab', out: 'meeting.mkv', signal });
 *   console.log(`${result.durationS} s in ${result.out}`);
 */
export async function record(options: RecorderOptions): Promise<RecordingResult> {
  const out = resolve(options.out);
  checkOutput(out, options.overwrite === true);
  const base = out.replace(/\.[^./]+$/, '');
  const transcriptPath = `${base}.chat.jsonl`;
  const filesDir = `${base}.files`;
  const width = options.width ?? 640;
  const height = options.height ?? 480;
  const fps = options.fps ?? 15;
  const log = options.log ?? (() => {});
  const url = botServerUrl(options.server);

  const bot = createBotClient({ url, name: options.name ?? 'recorder', room: options.room, audio: { listen: true } });
  const { client } = bot;
  if (options.tracksDir !== undefined) bot.audio.receiveTracks(true);
  await client.connect();
  let sink: MediaSink;
  try {
    await someoneToRecord(client, url, options, log);
    mkdirSync(dirname(out), { recursive: true });
    sink = await startSink({ out, width, height, fps });
  } catch (error) {
    await client.close();
    throw error;
  }

  const self = client.self!;
  const startedAt = Date.now();
  log(`recording room ${self.room} as ${self.name} to ${out}${options.tracksDir ? ` (tracks in ${resolve(options.tracksDir)})` : ''}`);
  const grid = new GridCompositor(width, height);
  const tracks = options.tracksDir === undefined ? undefined : new TrackRecorder(resolve(options.tracksDir), startedAt, log);
  const video = new RecorderVideo(bot, grid, { maxWidth: width, maxHeight: height, tracks });
  const transcript = new Transcript(transcriptPath);
  const mix: Int16Array[] = [];
  const silence = new Int16Array(FRAME_SAMPLES);
  const received = { mixFrames: 0, chatMessages: 0 };
  const saved: string[] = [];
  const downloads: Promise<void>[] = [];
  let droppedMixFrames = 0;
  let stop!: (reason: string) => void;
  const stopped = new Promise<string>((resolveStop) => (stop = resolveStop));

  for (const peer of client.peers.values()) grid.setParticipant(peer.id, peer.name);
  bot.chat.on('message', (message) => {
    received.chatMessages++;
    transcript.write({ type: 'message', ...message });
  });
  client.on('peerJoined', (peer) => {
    grid.setParticipant(peer.id, peer.name);
    transcript.write({ type: 'joined', peer, ts: Date.now() });
  });
  client.on('peerLeft', (peer) => {
    grid.removeParticipant(peer.id);
    video.peerLeft(peer.id);
    transcript.write({ type: 'left', peer: { id: peer.id, name: peer.name }, reason: peer.reason, ts: Date.now() });
    if (options.stopWhenEmpty !== false && client.peers.size === 0) stop('empty');
  });
  client.on('close', () => stop('disconnected'));
  bot.audio.on('mix', ({ pcm }) => {
    received.mixFrames++;
    mix.push(pcm);
    if (mix.length > MAX_QUEUED_MIX) {
      mix.shift();
      droppedMixFrames++;
    }
  });
  if (tracks) {
    bot.audio.on('frame', (frame) => tracks.mix(frame));
    bot.audio.on('track', (frame) => {
      const peer = client.peers.get(frame.sender);
      if (peer) tracks.participant(peer, frame);
    });
  }
  bot.files.on('file', (file) => {
    mkdirSync(filesDir, { recursive: true });
    // The files plugin gives a clean name; the download goes into the directory under that name.
    downloads.push(bot.files.download(file.id, filesDir).done.then(
      (stored) => {
        const path = join(filesDir, stored.name);
        saved.push(path);
        transcript.write({ type: 'file', file: stored, savedAs: path, ts: Date.now() });
      },
      (error: Error) => log(`could not save ${file.name}: ${error.message}`),
    ));
  });

  // Everyone may have left while the recording started.
  if (options.stopWhenEmpty !== false && client.peers.size === 0) stop('empty');
  const timeline = new Timeline(fps, {
    audioFrame: () => sink.writeAudio(mix.shift() ?? silence),
    videoFrame: () => sink.writeVideo(grid.render()),
  });
  timeline.start();
  void sink.exited.then(({ error }) => error && stop('ffmpeg'));
  const onAbort = () => stop('signal');
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = options.maxDurationS === undefined ? undefined : setTimeout(() => stop('duration'), options.maxDurationS * 1000);

  const reason = await stopped;
  clearTimeout(timer);
  options.signal?.removeEventListener('abort', onAbort);
  timeline.stop();
  // A recording stopped before its first frame still gets one, or ffmpeg would leave a file without media.
  if (timeline.written.video === 0) timeline.catchUp(performance.now() + 1000 / fps);
  const stoppedAt = Date.now();
  log(`stopping (${reason}) after ${timeline.seconds.toFixed(1)} s; finishing ${out}`);
  // Files being saved get a moment to finish before the client leaves.
  await Promise.race([Promise.all(downloads), new Promise((done) => setTimeout(done, 10_000))]);
  await client.close();
  await Promise.all([transcript.close(), video.close()]);
  const trackFiles = await tracks?.finish();
  try {
    await sink.finish();
  } catch (error) {
    removeIfEmpty(out);
    if (transcript.lines === 0) rmSync(transcriptPath, { force: true });
    throw new ConfabError('BOT_FFMPEG_FAILED', `the recording of ${out} failed: ${(error as Error).message}`, { cause: error });
  }
  return {
    out,
    transcript: transcriptPath,
    files: saved,
    ...(trackFiles ? { tracks: trackFiles } : {}),
    reason,
    durationS: timeline.seconds,
    startedAt,
    stoppedAt,
    written: { audioFrames: timeline.written.audio, videoFrames: timeline.written.video },
    received: { ...received, ...video.received },
    droppedMixFrames,
  };
}

/**
 * Checks the output before anything starts: a container the sink writes, not an existing file (unless
 * `overwrite`), in a directory that can be written.
 *
 * @throws ConfabError BOT_OUTPUT_INVALID saying what to change.
 */
function checkOutput(out: string, overwrite: boolean): void {
  checkSinkOutput(out);
  if (existsSync(out)) {
    if (statSync(out).isDirectory()) throw new ConfabError('BOT_OUTPUT_INVALID', `${out} is a directory; give a file name ending in .mkv or .webm`);
    if (!overwrite) throw new ConfabError('BOT_OUTPUT_INVALID', `${out} exists; choose another name, or give --force to replace it`);
  }
  let dir = dirname(out);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new ConfabError('BOT_OUTPUT_INVALID', `cannot write in ${dir}: choose an --out in a directory you can write to`);
  }
}

/**
 * Resolves once the room has someone to record: at once when it has, after the first join with
 * `waitForPeers`.
 *
 * @throws ConfabError BOT_ROOM_EMPTY when it is empty and not waited for, or when the wait was cut short.
 */
async function someoneToRecord(client: ConfabClient, url: string, options: RecorderOptions, log: (line: string) => void): Promise<void> {
  if (client.peers.size > 0) return;
  // Listen before looking up the hint: someone may join while it is asked for.
  let outcome: (what: string) => void = () => {};
  const settled = new Promise<string>((done) => (outcome = done));
  const onJoined = () => outcome('joined');
  const onClose = () => outcome('disconnected');
  const onAbort = () => outcome('stopped');
  client.on('peerJoined', onJoined);
  client.on('close', onClose);
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const hint = emptyRoomHint(options.room, await roomsInUse(url));
    if (client.peers.size > 0) return;
    if (!options.waitForPeers) {
      throw new ConfabError('BOT_ROOM_EMPTY', `${hint} Nothing to record: check the name, or give --wait to wait for the first participant.`);
    }
    log(`${hint} Waiting for someone to join (Ctrl-C to stop).`);
    const what = await settled;
    if (what !== 'joined') {
      throw new ConfabError('BOT_ROOM_EMPTY', `nobody joined room "${options.room}" before the recorder ${what === 'stopped' ? 'was stopped' : 'was disconnected'}; nothing was recorded`);
    }
  } finally {
    client.off('peerJoined', onJoined);
    client.off('close', onClose);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** Removes a file that holds nothing (what a failed ffmpeg leaves). */
function removeIfEmpty(path: string): void {
  try {
    if (statSync(path).size === 0) rmSync(path);
  } catch {
    // Not there: nothing to remove.
  }
}
