/**
 * The recorder bot: joins a room as a listener and writes one file with the room's audio mix and a video
 * of the meeting (a grid of the participants' cameras, or the screen share while one is on), plus the chat
 * transcript beside it (`<out>.chat.jsonl`) and the files shared during the recording (in `<out>.files/`).
 *
 * A wall-clock timeline feeds ffmpeg at a constant rate (silence when no mix arrived, the last grid frame
 * again when nothing changed), so the file lasts as long as the recording. It stops on its signal
 * (Ctrl-C in the CLI), when the last other participant leaves, or after `maxDurationS`, and always finishes
 * the file so that it plays.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfabError } from '../../core/errors.js';
import { createBotClient, botServerUrl } from '../clients.js';
import { FRAME_SAMPLES } from '../media/pcm.js';
import { startSink } from '../media/sink.js';
import { GridCompositor } from './grid.js';
import { Timeline } from './timeline.js';
import { Transcript } from './transcript.js';

/** Options of `record`. */
export interface RecorderOptions {
  /** `host:port`, `tcp://…` or `ws://…`. */
  server: string;
  room: string;
  /** The output file (`.mkv` or `.webm`). */
  out: string;
  /** Display name; default `recorder`. */
  name?: string;
  /** Video size and rate; default 640×480 at 15 fps. */
  width?: number;
  height?: number;
  fps?: number;
  /** Stop when the last other participant leaves. Default true. */
  stopWhenEmpty?: boolean;
  /** Stop after this many seconds. */
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
  /** Why it stopped: `signal`, `empty`, `duration`, `disconnected`. */
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
 * @example
 *   const result = await record({ server: '127.0.0.1:5000', room: 'lab', out: 'meeting.mkv', signal });
 *   console.log(`${result.durationS} s in ${result.out}`);
 */
export async function record(options: RecorderOptions): Promise<RecordingResult> {
  const out = resolve(options.out);
  const base = out.replace(/\.[^./]+$/, '');
  const transcriptPath = `${base}.chat.jsonl`;
  const filesDir = `${base}.files`;
  const saved: string[] = [];
  const downloads: Promise<void>[] = [];
  mkdirSync(dirname(out), { recursive: true });
  const width = options.width ?? 640;
  const height = options.height ?? 480;
  const fps = options.fps ?? 15;
  const log = options.log ?? (() => {});

  const bot = createBotClient({ url: botServerUrl(options.server), name: options.name ?? 'recorder', room: options.room, audio: { listen: true } });
  const { client } = bot;
  const grid = new GridCompositor(width, height);
  const transcript = new Transcript(transcriptPath);
  const mix: Int16Array[] = [];
  const silence = new Int16Array(FRAME_SAMPLES);
  const received = { mixFrames: 0, cameraFrames: 0, screenFrames: 0, chatMessages: 0 };
  let droppedMixFrames = 0;

  let stop!: (reason: string) => void;
  const stopped = new Promise<string>((resolveStop) => (stop = resolveStop));

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
    transcript.write({ type: 'left', peer: { id: peer.id, name: peer.name }, reason: peer.reason, ts: Date.now() });
    if (options.stopWhenEmpty !== false && client.peers.size === 0) stop('empty');
  });
  client.on('close', () => stop('disconnected'));
  bot.video.on('camera', ({ peer, on }) => grid.setCamera(peer, on));
  bot.video.on('frame', (frame) => {
    received.cameraFrames++;
    grid.cameraFrame(frame.sender, frame.data);
  });
  bot.audio.on('mix', ({ pcm }) => onMix(pcm));
  bot.files.on('file', (file) => {
    mkdirSync(filesDir, { recursive: true });
    // The files plugin gives a clean name; the download goes into the directory under that name.
    const download = bot.files.download(file.id, filesDir).done.then(
      (stored) => {
        const path = join(filesDir, stored.name);
        saved.push(path);
        transcript.write({ type: 'file', file: stored, savedAs: path, ts: Date.now() });
      },
      (error: Error) => log(`could not save ${file.name}: ${error.message}`),
    );
    downloads.push(download);
  });
  bot.screen.on('started', ({ presenter }) => grid.setScreen(presenter.name));
  bot.screen.on('stopped', () => grid.setScreen(undefined));
  bot.screen.on('frame', (frame) => {
    received.screenFrames++;
    grid.screenFrame(frame.data);
  });

  await client.connect();
  const self = client.self!;
  log(`recording room ${self.room} as ${self.name} to ${out}`);
  for (const peer of client.peers.values()) grid.setParticipant(peer.id, peer.name);

  const sink = await startSink({ out, width, height, fps });
  const timeline = new Timeline(fps, {
    audioFrame: () => sink.writeAudio(mix.shift() ?? silence),
    videoFrame: () => sink.writeVideo(grid.render()),
  });
  timeline.start();
  const startedAt = Date.now();
  sink.exited.then(({ error }) => error && stop('ffmpeg'));

  const onAbort = () => stop('signal');
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = options.maxDurationS === undefined ? undefined : setTimeout(() => stop('duration'), options.maxDurationS * 1000);

  const reason = await stopped;
  clearTimeout(timer);
  options.signal?.removeEventListener('abort', onAbort);
  timeline.stop();
  const stoppedAt = Date.now();
  log(`stopping (${reason}) after ${timeline.seconds.toFixed(1)} s; finishing ${out}`);
  // Files being saved get a moment to finish before the client leaves.
  await Promise.race([Promise.all(downloads), new Promise((done) => setTimeout(done, 10_000))]);
  await client.close();
  await transcript.close();
  try {
    await sink.finish();
  } catch (error) {
    throw new ConfabError('BOT_FFMPEG_FAILED', `the recording of ${out} failed: ${(error as Error).message}`, { cause: error });
  }
  return {
    out,
    transcript: transcriptPath,
    files: saved,
    reason,
    durationS: timeline.seconds,
    startedAt,
    stoppedAt,
    written: { audioFrames: timeline.written.audio, videoFrames: timeline.written.video },
    received,
    droppedMixFrames,
  };

  /** Queues one mix frame for the timeline. */
  function onMix(samples: Int16Array): void {
    received.mixFrames++;
    mix.push(samples);
    if (mix.length > MAX_QUEUED_MIX) {
      mix.shift();
      droppedMixFrames++;
    }
  }
}
