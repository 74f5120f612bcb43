/**
 * One ffmpeg child process of a bot, spawned directly (not through fluent-ffmpeg) because the bots need what
 * fluent-ffmpeg cannot give:
 *
 * - its own process group (`detached`), so a SIGTERM or Ctrl-C sent to the bot's process group (as `timeout`,
 *   systemd and terminals send them) reaches only the bot, which then ends each ffmpeg in order and finishes
 *   its files, instead of ffmpeg dying on its own first and the bot reporting a failure;
 * - extra pipes beside stdin and stdout (`pipe:3`, `pipe:4`…), for a second input or output stream;
 * - byte streams in both directions on one process (raw frames in, IVF out), with every pipe guarded so that
 *   a dying ffmpeg never crashes the bot with EPIPE.
 *
 * A process that loses its parent still ends: its pipes close, so it reads EOF or fails to write.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { ConfabError } from '../../core/errors.js';
import { findFfmpeg, type FfmpegLookup } from '../ffmpeg.js';

/** Options of `startFfmpeg`. */
export interface FfmpegProcessOptions {
  /** What the process does, for error messages: "the VP8 encoder", "the recording of meeting.mkv". */
  label: string;
  /** ffmpeg's arguments (`-hide_banner -nostats -loglevel error` come first). */
  args: string[];
  /** Extra pipes after stdin, stdout and stderr, as fd 3, 4…: `in` is written by the bot, `out` read by it. */
  pipes?: Array<'in' | 'out'>;
  /** Log level given to ffmpeg; default `error`. */
  logLevel?: 'error' | 'warning' | 'info';
}

/** How an ffmpeg process ended. */
export interface FfmpegExit {
  /** Set when it failed: a non-zero exit or a signal that the bot did not send. */
  error?: ConfabError;
  /** The last lines it wrote to stderr. */
  stderr: string;
}

/** A running ffmpeg. */
export interface FfmpegProcess {
  readonly pid: number;
  /** ffmpeg's stdin. */
  readonly stdin: Writable;
  /** ffmpeg's stdout. */
  readonly stdout: Readable;
  /** The extra pipes, in the order asked for (fd 3 first). */
  readonly pipes: Array<Readable | Writable>;
  /** Resolves (never rejects) once the process exited. */
  readonly exited: Promise<FfmpegExit>;
  /** Ends stdin and every `in` pipe and waits for ffmpeg to finish; rejects with BOT_FFMPEG_FAILED. */
  finish(): Promise<void>;
  /** Ends the process (SIGTERM, SIGKILL after 2 s) and waits; an exit caused by this is no error. Idempotent. */
  stop(): Promise<void>;
}

/** Lines of stderr kept for error messages. */
const STDERR_LINES = 8;
/** After SIGTERM, how long ffmpeg gets before SIGKILL. */
const KILL_GRACE_MS = 2000;

let lookup: Promise<FfmpegLookup> | undefined;

/** The ffmpeg binary, looked up once per process (bots/ffmpeg.ts). */
export function ffmpegBinary(): Promise<FfmpegLookup> {
  lookup ??= findFfmpeg();
  lookup.catch(() => (lookup = undefined));
  return lookup;
}

/**
 * Starts ffmpeg in a process group of its own.
 *
 * @throws ConfabError FFMPEG_NOT_FOUND when there is no ffmpeg.
 * @example
 *   const encoder = await startFfmpeg({ label: 'the VP8 encoder', args: ['-f', 'rawvideo', …, '-f', 'ivf', 'pipe:1'] });
 *   encoder.stdout.on('data', (chunk) => reader.push(chunk));
 *   encoder.stdin.write(frame);
 *   await encoder.finish();
 */
export async function startFfmpeg(options: FfmpegProcessOptions): Promise<FfmpegProcess> {
  const { path } = await ffmpegBinary();
  const extra = options.pipes ?? [];
  const child: ChildProcess = spawn(path, ['-hide_banner', '-nostats', '-loglevel', options.logLevel ?? 'error', ...options.args], {
    stdio: ['pipe', 'pipe', 'pipe', ...extra.map(() => 'pipe' as const)],
    detached: true,
    windowsHide: true,
  });
  const tail: string[] = [];
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    tail.push(...text.split('\n').filter((line) => line.trim() !== ''));
    tail.splice(0, Math.max(0, tail.length - STDERR_LINES));
  });
  const streams = [child.stdin!, child.stdout!, ...extra.map((_, i) => child.stdio[3 + i] as Readable | Writable)];
  for (const stream of streams) stream.on('error', () => {});

  let stopping = false;
  const exited = new Promise<FfmpegExit>((resolve) => {
    let spawnError: Error | undefined;
    child.once('error', (error) => (spawnError = error));
    child.once('close', (code, signal) => {
      const stderr = tail.join('\n');
      if ((code === 0 && !spawnError) || stopping) return resolve({ stderr });
      const how = spawnError ? spawnError.message : signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const said = tail.length > 0 ? `: ${tail.slice(-3).join(' | ')}` : '';
      resolve({ error: new ConfabError('BOT_FFMPEG_FAILED', `ffmpeg (${options.label}) ${how}${said}`), stderr });
    });
  });

  return {
    pid: child.pid ?? -1,
    stdin: child.stdin!,
    stdout: child.stdout!,
    pipes: streams.slice(2),
    exited,
    async finish() {
      child.stdin!.end();
      extra.forEach((kind, i) => kind === 'in' && (child.stdio[3 + i] as Writable).end());
      const { error } = await exited;
      if (error) throw error;
    },
    async stop() {
      if (!stopping && child.exitCode === null && child.signalCode === null) {
        stopping = true;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      await exited;
    },
  };
}
