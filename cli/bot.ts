/**
 * `confab bot`: run a scripted bot, or one of the built-in bots: record, inject, load.
 */
import { parseArgs } from 'node:util';
import { ConfabError } from '../core/errors.js';
import { inject } from '../bots/injector.js';
import { MAX_LOAD_BOTS, runLoad, type LoadProgress } from '../bots/load/load.js';
import { formatLoadReport } from '../bots/load/report.js';
import { loadBotScript } from '../bots/load-script.js';
import { record } from '../bots/recorder/recorder.js';
import { runBot } from '../bots/runtime.js';
import { loadClientEntries } from './client-entries.js';
import { formatDuration } from './progress.js';

export const usage = `Usage: confab bot <command> [options]

Commands:
  run <script.ts>   run a scripted bot (export default defineBot(async (bot) => { … }))
  record            record a room: audio mix and video to one file, chat transcript beside it
  inject            publish a media file or a test pattern as camera and microphone (or screen)
  load              start N synthetic participants and report latency, loss and throughput

Common options:
  --server <host:port>  server to join (default 127.0.0.1:5000; tcp:// or ws://…/ws URLs work too)
  --room <name>         room to join (default "default")
  --name <name>         display name (default: the bot's kind)
  -h, --help            show this help

run:     confab bot run my-bot.ts --room lab [-- --key=value …]   (after --: the script's bot.args)
         --config <file> (a plugins.config.ts: its plugins' client entries, for bot.plugin(entry))
record:  --out <file.mkv|file.webm> (required)  --force (replace an existing file)  --tracks <dir> (also write
         each participant's camera and microphone into one file, and the audio mix into another, without
         re-encoding)  --wait (wait for someone to join an empty room)  --max-duration <time>  --keep-going
         (do not stop when the room empties)  --size 640x480  --fps 15
inject:  --file <media> | --test-pattern [--tone <Hz>]  --as camera|screen  --loop  --duration <time>
         --codec vp8|jpeg (default vp8)  --bitrate <rate> (VP8 ceiling, default 500k; screen 1500k)
         --min-bitrate <rate> (VP8 floor under feedback, default 150k; screen 300k)  --audio-codec opus|pcm
         --size 640x480  --fps 15 (screen 5)  --no-audio
load:    --bots <n> (required, 1 to ${MAX_LOAD_BOTS})  --duration <time> (default 10s)  --ramp <time>  --video
         --codec vp8|jpeg (default vp8)  --size 320x240  --bitrate <rate> (VP8 clip, default 300k)
         --fps <n> (default 15)  --audio  --audio-codec opus|pcm  --chat-rate <messages per second>
         --json (print the report as JSON)

Times are like 30s, 2m, 1500ms or a number of seconds; rates like 500k, 1.5M or bits per second. Ctrl-C or
SIGTERM stops a bot cleanly (a recording is finished so that it plays).
`;

const COMMON = {
  server: { type: 'string', default: '127.0.0.1:5000' },
  room: { type: 'string', default: 'default' },
  name: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function run(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(usage);
    return command === undefined ? 2 : 0;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(usage);
    return 0;
  }
  switch (command) {
    case 'run':
      return runScript(rest);
    case 'record':
      return runRecord(rest);
    case 'inject':
      return runInject(rest);
    case 'load':
      return runLoadCommand(rest);
    default:
      process.stderr.write(`confab bot: unknown command "${command}"; run confab bot --help\n`);
      return 2;
  }
}

async function runScript(args: string[]): Promise<number> {
  const split = args.indexOf('--');
  const own = split < 0 ? args : args.slice(0, split);
  const scriptArgs = split < 0 ? [] : args.slice(split + 1);
  const { values, positionals } = parseArgs({ args: own, options: { ...COMMON, config: { type: 'string' } }, allowPositionals: true });
  const script = positionals[0];
  if (script === undefined || positionals.length > 1) {
    process.stderr.write('confab bot run: give one script: confab bot run my-bot.ts --room lab\n');
    return 2;
  }
  const definition = await loadBotScript(script);
  const entries = values.config === undefined ? [] : await loadClientEntries(values.config);
  const signal = untilSignal();
  const result = await runBot(definition, {
    server: values.server,
    room: values.room,
    name: values.name ?? basename(script),
    args: parseScriptArgs(scriptArgs),
    signal,
    entries,
  });
  if (result.error) throw result.error;
  process.stderr.write(`confab bot: ${values.name ?? basename(script)} left (${result.reason})\n`);
  return result.reason === 'disconnected' ? 1 : 0;
}

async function runRecord(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...COMMON,
      out: { type: 'string', short: 'o' },
      force: { type: 'boolean' },
      tracks: { type: 'string' },
      wait: { type: 'boolean' },
      'max-duration': { type: 'string' },
      'keep-going': { type: 'boolean' },
      size: { type: 'string', default: '640x480' },
      fps: { type: 'string', default: '15' },
    },
  });
  if (values.out === undefined) throw new ConfabError('BOT_OPTION_INVALID', 'confab bot record needs --out <file.mkv>');
  const { width, height } = parseSize(values.size);
  const result = await record({
    server: values.server,
    room: values.room,
    out: values.out,
    overwrite: values.force,
    tracksDir: values.tracks,
    waitForPeers: values.wait,
    name: values.name,
    width,
    height,
    fps: parseCount('--fps', values.fps),
    stopWhenEmpty: !values['keep-going'],
    maxDurationS: values['max-duration'] === undefined ? undefined : parseTime('--max-duration', values['max-duration']),
    signal: untilSignal(),
    log: (line) => process.stderr.write(`confab bot record: ${line}\n`),
  });
  process.stdout.write(
    `recorded ${result.durationS.toFixed(1)} s (${result.reason}) to ${result.out}; chat transcript ${result.transcript}` +
      ` (${result.received.chatMessages} messages)\n`,
  );
  if (result.tracks) {
    const files = result.tracks.map((track) => track.file).join(', ');
    process.stdout.write(`tracks in ${values.tracks}: ${files || 'none (nobody sent video or audio)'}\n`);
  }
  return 0;
}

async function runInject(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...COMMON,
      file: { type: 'string', short: 'f' },
      'test-pattern': { type: 'boolean' },
      tone: { type: 'string', default: '440' },
      as: { type: 'string', default: 'camera' },
      codec: { type: 'string', default: 'vp8' },
      bitrate: { type: 'string' },
      'min-bitrate': { type: 'string' },
      'audio-codec': { type: 'string', default: 'opus' },
      loop: { type: 'boolean' },
      duration: { type: 'string' },
      size: { type: 'string', default: '640x480' },
      fps: { type: 'string' },
      'no-audio': { type: 'boolean' },
    },
  });
  if ((values.file === undefined) === !values['test-pattern']) {
    throw new ConfabError('BOT_OPTION_INVALID', 'confab bot inject needs either --file <media> or --test-pattern');
  }
  if (values.as !== 'camera' && values.as !== 'screen') throw new ConfabError('BOT_OPTION_INVALID', `--as is camera or screen, got "${values.as}"`);
  const { width, height } = parseSize(values.size);
  const screen = values.as === 'screen';
  const maxBps = values.bitrate === undefined ? (screen ? 1_500_000 : 500_000) : parseRate('--bitrate', values.bitrate);
  const minBps = values['min-bitrate'] === undefined ? Math.min(maxBps, screen ? 300_000 : 150_000) : parseRate('--min-bitrate', values['min-bitrate']);
  if (minBps > maxBps) throw new ConfabError('BOT_OPTION_INVALID', `--min-bitrate (${minBps}) must not be above --bitrate (${maxBps})`);
  const result = await inject({
    server: values.server,
    room: values.room,
    name: values.name,
    input: values.file !== undefined ? { file: values.file } : { testPattern: { frequency: parseCount('--tone', values.tone) } },
    as: values.as,
    codec: parseChoice('--codec', values.codec, ['vp8', 'jpeg'] as const),
    audioCodec: parseChoice('--audio-codec', values['audio-codec'], ['opus', 'pcm'] as const),
    bitrate: { minBps, maxBps },
    loop: values.loop,
    audio: !values['no-audio'],
    durationS: values.duration === undefined ? undefined : parseTime('--duration', values.duration),
    width,
    height,
    fps: values.fps === undefined ? undefined : parseCount('--fps', values.fps),
    signal: untilSignal(),
    log: (line) => process.stderr.write(`confab bot inject: ${line}\n`),
  });
  const latencies = result.video.keyframeLatencyMs;
  const keyframes = result.video.keyframeRequests === 0 ? '' : `; ${result.video.keyframeRequests} keyframe requests answered` +
    (latencies.length > 0 ? ` in ${Math.round(Math.min(...latencies))}–${Math.round(Math.max(...latencies))} ms` : '');
  process.stdout.write(
    `sent ${result.sent.videoFrames} video (${result.codecs.video}) and ${result.sent.audioFrames} audio frames` +
      `${result.codecs.audio ? ` (${result.codecs.audio})` : ''} (${result.reason})${keyframes}\n`,
  );
  return 0;
}

async function runLoadCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...COMMON,
      room: { type: 'string', default: 'load' },
      bots: { type: 'string' },
      duration: { type: 'string', default: '10s' },
      ramp: { type: 'string' },
      video: { type: 'boolean' },
      codec: { type: 'string', default: 'vp8' },
      size: { type: 'string', default: '320x240' },
      bitrate: { type: 'string', default: '300k' },
      fps: { type: 'string', default: '15' },
      audio: { type: 'boolean' },
      'audio-codec': { type: 'string', default: 'opus' },
      'chat-rate': { type: 'string', default: '0' },
      json: { type: 'boolean' },
    },
  });
  if (values.bots === undefined) throw new ConfabError('BOT_OPTION_INVALID', 'confab bot load needs --bots <n>');
  const durationS = parseTime('--duration', values.duration);
  const { width, height } = parseSize(values.size);
  const report = await runLoad({
    server: values.server,
    room: values.room,
    name: values.name,
    bots: parseCount('--bots', values.bots),
    durationS,
    rampS: values.ramp === undefined ? undefined : parseTime('--ramp', values.ramp),
    video: values.video,
    codec: parseChoice('--codec', values.codec, ['vp8', 'jpeg'] as const),
    width,
    height,
    videoBitrateBps: parseRate('--bitrate', values.bitrate),
    fps: parseCount('--fps', values.fps),
    audio: values.audio,
    audioCodec: parseChoice('--audio-codec', values['audio-codec'], ['opus', 'pcm'] as const),
    chatRate: Number(values['chat-rate']),
    onProgress: progressLine(process.stderr),
    signal: untilSignal(),
  });
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatLoadReport(report));
  return report.joined === report.bots ? 0 : 1;
}

/**
 * A one-line progress bar for the load test on a terminal (nothing on a pipe, so `--json` output stays clean):
 * `load [##########..........] running  20/20 joined  0:05 / 0:10`.
 */
function progressLine(stream: NodeJS.WriteStream): (progress: LoadProgress) => void {
  if (!stream.isTTY) return () => {};
  return (progress) => {
    const fraction = progress.phase === 'joining' ? progress.joined / progress.bots : progress.elapsedS / progress.durationS;
    const width = 20;
    const filled = Math.round(Math.min(1, fraction) * width);
    const time = `${formatDuration(progress.elapsedS)} / ${formatDuration(progress.durationS)}`;
    stream.write(`\rload [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${progress.phase.padEnd(8)} ${progress.joined}/${progress.bots} joined  ${time}\x1b[K`);
    if (progress.phase === 'leaving') stream.write('\n');
  };
}

/** An AbortSignal that aborts on the first SIGINT or SIGTERM; a second one exits at once. */
function untilSignal(): AbortSignal {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\nconfab bot: ${signal}, stopping (again to exit at once)\n`);
    controller.abort(new ConfabError('BOT_LEFT', `stopped by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}

/** `--key=value` and `--flag` after `--`, for `bot.args`. */
function parseScriptArgs(args: string[]): Record<string, string> {
  const parsed: Record<string, string> = {};
  for (const arg of args) {
    const match = /^--?([^=]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new ConfabError('BOT_OPTION_INVALID', `script arguments are --key=value, got "${arg}"`);
    parsed[match[1]!] = match[2] ?? 'true';
  }
  return parsed;
}

/** `30s`, `2m`, `1500ms`, `1h` or plain seconds → seconds. */
export function parseTime(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new ConfabError('BOT_OPTION_INVALID', `${flag} takes a time like 30s, 2m or 1500ms, got "${text}"`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  const seconds = Number(match[1]) * unit;
  if (seconds <= 0) throw new ConfabError('BOT_OPTION_INVALID', `${flag} must be more than 0, got "${text}"`);
  return seconds;
}

function parseCount(flag: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new ConfabError('BOT_OPTION_INVALID', `${flag} takes a whole number ≥ 1, got "${text}"`);
  return Number(text);
}

/** `500k`, `1.5M` or plain bits per second → bits per second (10 kbit/s to 50 Mbit/s). */
function parseRate(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  const bps = match ? Number(match[1]) * ({ '': 1, k: 1e3, m: 1e6 }[match[2]!.toLowerCase() as '' | 'k' | 'm']) : NaN;
  if (!(bps >= 10_000 && bps <= 50_000_000)) {
    throw new ConfabError('BOT_OPTION_INVALID', `${flag} takes a rate like 500k or 1.5M (10k to 50M bits per second), got "${text}"`);
  }
  return Math.round(bps);
}

/** One of the allowed words. */
function parseChoice<T extends string>(flag: string, text: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(text)) return text as T;
  throw new ConfabError('BOT_OPTION_INVALID', `${flag} is ${choices.join(' or ')}, got "${text}"`);
}

function parseSize(text: string): { width: number; height: number } {
  const match = /^(\d+)x(\d+)$/.exec(text);
  const width = Number(match?.[1]);
  const height = Number(match?.[2]);
  if (!match || width < 16 || height < 16 || width > 3840 || height > 2160 || width % 2 || height % 2) {
    throw new ConfabError('BOT_OPTION_INVALID', `--size takes WIDTHxHEIGHT with even numbers from 16x16 to 3840x2160, got "${text}"`);
  }
  return { width, height };
}

function basename(path: string): string {
  return path.replace(/^.*[\\/]/, '').replace(/\.[^.]+$/, '');
}
