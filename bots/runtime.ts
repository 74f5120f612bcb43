/**
 * The bot runtime: `defineBot(async (bot) => { … })` describes a scripted participant, `runBot()` joins a
 * room with it and runs it until it leaves.
 *
 * A bot is a normal client (the Node SDK over TCP) with every built-in plugin's client half attached, and
 * those of other plugins it is given (`confab bot run --config`: the config's plugins' client entries), plus
 * helpers for the things scripts do: say something, wait, react to messages and peers, publish a test card
 * or a media file as camera and microphone, leave.
 *
 * @example
 *   // greeter.ts — run with: confab bot run greeter.ts --server 127.0.0.1:5000 --room lab
 *   import { defineBot } from '../runtime.js';
 *   export default defineBot(async (bot) => {
 *     bot.on('peerJoined', (peer) => void bot.say(`welcome, ${peer.name}!`));
 *   });
 */
import { Emitter } from '../core/client/emitter.js';
import type { AnyClientEntry, ClientEntry } from '../core/client/entry.js';
import type { Peer, PeerLeftEvent, Self } from '../core/client/types.js';
import { ConfabError, isConfabError } from '../core/errors.js';
import type { ChatMessage } from '../plugins/chat/protocol.js';
import { createBotClient, botServerUrl, type BotClient, type PluginClients } from './clients.js';
import { startSource, type MediaSource, type SourceOptions } from './media/source.js';
import { TestCard } from './media/test-card.js';
import { cameraOutlet, startVideoPublisher, type BotVideoCodec } from './media/video-publisher.js';

/** What `bot.play()` takes: the media to decode, and the video codec to publish it in (default VP8). */
export type PlayOptions = Omit<SourceOptions, 'videoFormat'> & { codec?: BotVideoCodec };

/** What a bot script's main function receives. */
export interface Bot extends Pick<Emitter<BotEvents>, 'on' | 'off' | 'once'>, Omit<BotClient, 'has' | 'entries'> {
  /** This bot's session: id, the name the server gave, room. */
  readonly self: Self;
  /** The other participants, by session id. */
  readonly peers: ReadonlyMap<string, Peer>;
  /** Extra arguments given after `--` on the command line, as `key=value` pairs (`--quiz=capitals` → quiz). */
  readonly args: Readonly<Record<string, string>>;
  /** Aborted when the bot leaves: pass it to anything that should stop then. */
  readonly signal: AbortSignal;
  /** Whether the server runs a plugin (from WELCOME). */
  has(plugin: keyof PluginClients): boolean;
  /**
   * The API of a plugin's client half given in `entries` (`--config`), or undefined when the server does
   * not run that plugin.
   *
   * @example
   *   const polls = bot.plugin(pollsEntry);
   *   if (polls) await polls.create('Lunch?', ['pizza', 'soup']);
   */
  plugin<Api>(entry: ClientEntry<Api>): Api | undefined;
  /** Sends a chat message to the room, or privately to a peer id with `to`. */
  say(text: string, options?: { to?: string }): Promise<ChatMessage>;
  /** Resolves after `ms`, or rejects with BOT_LEFT if the bot leaves first. */
  sleep(ms: number): Promise<void>;
  /** Resolves with the next chat message from someone else that `match` accepts (default any). */
  nextMessage(match?: (message: ChatMessage) => boolean, timeoutMs?: number): Promise<ChatMessage>;
  /** Publishes a test card (name, clock, frame counter) as camera at `fps` until the bot leaves or `stop()`. */
  showTestCard(options?: { fps?: number; label?: string }): { stop(): void };
  /** Decodes a media file or ffmpeg's test pattern with ffmpeg and publishes it as camera (VP8 with temporal
   * layers, or JPEG) and mic (when the server mixes audio) at real-time pace. Stopped when the bot leaves. */
  play(options: PlayOptions): Promise<MediaSource>;
  /** Prints a line prefixed with the bot's name (to stderr, so stdout stays for data). */
  log(...parts: unknown[]): void;
  /** Leaves the room; `runBot` then resolves. Idempotent. */
  leave(reason?: string): Promise<void>;
}

/** Events of a bot, for scripts. */
export type BotEvents = {
  /** A chat message from someone else (room-wide or private to this bot). */
  message: [ChatMessage];
  /** A participant joined. */
  peerJoined: [Peer];
  /** A participant left. */
  peerLeft: [PeerLeftEvent];
  /** The bot is leaving (by `leave()`, a signal, or a lost connection). */
  leave: [reason: string];
};

/** The main function of a bot script. */
export type BotMain = (bot: Bot) => void | Promise<void>;

/** What `defineBot` returns: the main function, marked so the runner can check the script's export. */
export interface BotDefinition {
  readonly kind: 'confab-bot';
  readonly main: BotMain;
}

/**
 * Declares a bot. The script's default export.
 *
 * @example
 *   export default defineBot(async (bot) => {
 *     await bot.say('hello');
 *     await bot.leave();
 *   });
 */
export function defineBot(main: BotMain): BotDefinition {
  if (typeof main !== 'function') throw new ConfabError('BOT_SCRIPT_INVALID', 'defineBot() takes an async function (bot) => { … }');
  return { kind: 'confab-bot', main };
}

/** True for what `defineBot` returned, also from another copy of this module (a bundled script). */
export function isBotDefinition(value: unknown): value is BotDefinition {
  return typeof value === 'object' && value !== null && (value as BotDefinition).kind === 'confab-bot' && typeof (value as BotDefinition).main === 'function';
}

/** Options of `runBot`. */
export interface RunBotOptions {
  /** `host:port`, `tcp://host:port` or `ws://host:port/ws`. */
  server: string;
  room: string;
  name: string;
  /** Script arguments (`bot.args`). */
  args?: Record<string, string>;
  /** Leave when this signal aborts (the CLI aborts it on SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Client entries of plugins that are not built in (a config's: `confab bot run --config`), for `bot.plugin()`. */
  entries?: readonly AnyClientEntry[];
}

/** How a bot run ended. */
export interface BotRunResult {
  /** `left` (the script called leave), `signal`, `disconnected`, or `failed` (the script threw). */
  reason: string;
  error?: Error;
}

/**
 * Joins the room as the bot, runs its main function, and resolves once the bot has left: after
 * `bot.leave()`, when `options.signal` aborts, or when the connection is lost for good. A main function
 * that throws makes the bot leave with reason `failed` and the error.
 *
 * @example
 *   const result = await runBot(greeter, { server: '127.0.0.1:5000', room: 'lab', name: 'greeter' });
 */
export async function runBot(definition: BotDefinition, options: RunBotOptions): Promise<BotRunResult> {
  const clients = createBotClient({ url: botServerUrl(options.server), name: options.name, room: options.room, entries: options.entries ?? [] });
  const { client } = clients;
  const events = new Emitter<BotEvents>();
  const aborter = new AbortController();
  let finish!: (result: BotRunResult) => void;
  const finished = new Promise<BotRunResult>((resolve) => (finish = resolve));
  let result: BotRunResult | undefined;

  const leave = async (reason: string, error?: Error) => {
    if (result) return;
    result = { reason, ...(error ? { error } : {}) };
    events.emit('leave', reason);
    aborter.abort(new ConfabError('BOT_LEFT', `the bot left (${reason})`));
    await client.close();
    finish(result);
  };

  await client.connect();
  const self = client.self!;
  clients.chat.on('message', (message) => {
    if (message.from.id !== self.id) events.emit('message', message);
  });
  client.on('peerJoined', (peer) => events.emit('peerJoined', peer));
  client.on('peerLeft', (peer) => events.emit('peerLeft', peer));
  client.on('close', ({ reason, error }) => void leave(reason === 'bye' ? 'left' : 'disconnected', error));
  const onSignal = () => void leave('signal');
  if (options.signal?.aborted) onSignal();
  options.signal?.addEventListener('abort', onSignal, { once: true });

  const bot: Bot = {
    on: events.on.bind(events),
    off: events.off.bind(events),
    once: events.once.bind(events),
    client,
    chat: clients.chat,
    video: clients.video,
    audio: clients.audio,
    files: clients.files,
    screen: clients.screen,
    scheduler: clients.scheduler,
    self,
    peers: client.peers,
    args: options.args ?? {},
    signal: aborter.signal,
    has: (plugin) => clients.has(plugin),
    plugin: (entry) => clients.entries.api(entry),
    say: (text, sayOptions) => clients.chat.send(text, sayOptions),
    sleep: (ms) => abortableSleep(ms, aborter.signal),
    nextMessage: (match = () => true, timeoutMs) => nextMessage(events, aborter.signal, match, timeoutMs),
    showTestCard: (cardOptions = {}) => showTestCard(bot, cardOptions),
    play: (sourceOptions) => play(bot, sourceOptions),
    log: (...parts) => process.stderr.write(`[${self.name}] ${parts.map(String).join(' ')}\n`),
    leave: (reason = 'left') => leave(reason),
  };

  try {
    await definition.main(bot);
  } catch (error) {
    // Leaving makes pending sleeps reject with BOT_LEFT: that is the script stopping, not failing.
    if (!(isConfabError(error) && error.code === 'BOT_LEFT')) {
      const failure = error instanceof Error ? error : new Error(String(error));
      await leave('failed', new ConfabError('BOT_SCRIPT_FAILED', `the bot script threw: ${failure.message}`, { cause: failure }));
    }
  }
  const ended = await finished;
  options.signal?.removeEventListener('abort', onSignal);
  return ended;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function nextMessage(
  events: Emitter<BotEvents>,
  signal: AbortSignal,
  match: (message: ChatMessage) => boolean,
  timeoutMs: number | undefined,
): Promise<ChatMessage> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const done = () => {
      events.off('message', onMessage);
      signal.removeEventListener('abort', onAbort);
      clearTimeout(timer);
    };
    const onMessage = (message: ChatMessage) => {
      if (!match(message)) return;
      done();
      resolve(message);
    };
    const onAbort = () => {
      done();
      reject(signal.reason);
    };
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
      done();
      reject(new ConfabError('BOT_TIMEOUT', `no matching chat message within ${timeoutMs} ms`));
    }, timeoutMs);
    events.on('message', onMessage);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function showTestCard(bot: Bot, options: { fps?: number; label?: string }): { stop(): void } {
  const card = new TestCard({ name: options.label ?? bot.self.name, width: 320, height: 240 });
  const timer = setInterval(() => {
    const captureMs = Date.now();
    bot.video.publish(card.jpeg(captureMs), { captureMs, keyframe: true });
  }, 1000 / (options.fps ?? 5));
  const stop = () => {
    clearInterval(timer);
    if (bot.video.camera) bot.video.setCamera(false);
  };
  bot.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  return { stop };
}

async function play(bot: Bot, options: PlayOptions): Promise<MediaSource> {
  if (!bot.has('video')) throw new ConfabError('BOT_NO_PLUGIN', 'the server has no video-relay plugin to publish to');
  const withAudio = options.audio !== false && bot.has('audio');
  if (withAudio) await bot.audio.ready;
  const codec = options.codec ?? 'vp8';
  const source = await startSource({ ...options, audio: withAudio, videoFormat: codec === 'vp8' ? 'i420' : 'jpeg' });
  const publisher = await startVideoPublisher({ outlet: cameraOutlet(bot.video), codec, ...source.video, onError: (error) => bot.log(error.message) })
    .catch(async (error: unknown) => {
      await source.stop();
      throw error;
    });
  source.on('video', (frame, captureMs) => publisher.frame(frame, captureMs));
  source.on('audio', (samples, captureMs) => bot.audio.publish(samples, { captureMs }));
  source.on('error', (error) => bot.log(error.message));
  void source.ended.then(() => publisher.close());
  bot.signal.addEventListener('abort', () => void source.stop(), { once: true });
  return source;
}
