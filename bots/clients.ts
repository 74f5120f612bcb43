/**
 * The plugin client halves a bot (or the terminal client) attaches: the built-in ones from plugins/clients.ts,
 * so every built-in bot gets the same set, and the client entries of other plugins it is given (a config's,
 * `confab bot run --config`), attached once the server announces their plugin. A built-in half whose
 * plugin the server lacks stays attached but unused; `has()` tells from WELCOME whether the server runs it.
 */
import { ClientEntries } from '../core/client/entries.js';
import type { AnyClientEntry } from '../core/client/entry.js';
import { ConfabClient, ConfabError, serverUrl } from '../core/client/node.js';
import type { ClientOptions } from '../core/client/types.js';
import { audioClient, type AudioApi, type AudioClientOptions } from '../plugins/audio-mix/client.js';
import type { ChatApi } from '../plugins/chat/client.js';
import { BUILTIN_CLIENTS } from '../plugins/clients.js';
import { filesClient, type FilesApi } from '../plugins/files/client-node.js';
import type { SchedulerApi } from '../plugins/scheduler/client.js';
import type { ScreenApi } from '../plugins/screen/client.js';
import type { VideoApi } from '../plugins/video-relay/client.js';

/** The client halves of the built-in plugins, attached to one client. */
export interface PluginClients {
  chat: ChatApi;
  video: VideoApi;
  audio: AudioApi;
  files: FilesApi;
  screen: ScreenApi;
  scheduler: SchedulerApi;
}

/** Each built-in half's plugin, as WELCOME names it. */
const PLUGIN_NAMES = {
  chat: 'chat',
  video: 'video-relay',
  audio: 'audio-mix',
  files: 'files',
  screen: 'screen',
  scheduler: 'scheduler',
} as const satisfies Record<keyof PluginClients, keyof typeof BUILTIN_CLIENTS>;

/** A connected-to-be client with every built-in plugin's half attached. */
export interface BotClient extends PluginClients {
  client: ConfabClient;
  /** The client's entries: the built-in ones, and those of `entries`, attached once their plugin is announced. */
  entries: ClientEntries;
  /** Whether the server runs that plugin (known after WELCOME). */
  has(plugin: keyof PluginClients): boolean;
}

/**
 * Options of `createBotClient`: the client's, plus the audio half's (default: Opus, not listening) and the
 * client entries of plugins that are not built in.
 */
export interface BotClientOptions extends ClientOptions {
  audio?: AudioClientOptions;
  entries?: readonly AnyClientEntry[];
}

/**
 * Creates a client (not yet connected) with the built-in client halves attached, and `entries` offered.
 *
 * @throws ConfabError PLUGIN_INVALID when an entry has the name of a built-in plugin or of another entry.
 * @example
 *   const bot = createBotClient({ url: 'tcp://127.0.0.1:5000', name: 'rec', room: 'lab' });
 *   await bot.client.connect();
 *   if (bot.has('video')) bot.video.subscribe({});
 */
export function createBotClient(options: BotClientOptions): BotClient {
  const { audio, entries: offered = [], ...clientOptions } = options;
  const client = new ConfabClient({ clientKind: 'bot', ...clientOptions });
  const entries = new ClientEntries(client);
  const bot: BotClient = {
    client,
    entries,
    chat: entries.use(BUILTIN_CLIENTS.chat),
    video: entries.use(BUILTIN_CLIENTS['video-relay']),
    audio: entries.use(BUILTIN_CLIENTS['audio-mix'], audioClient({ listen: false, ...audio })),
    // The Node half: uploads from paths and downloads to them.
    files: entries.use(BUILTIN_CLIENTS.files, filesClient()),
    screen: entries.use(BUILTIN_CLIENTS.screen),
    scheduler: entries.use(BUILTIN_CLIENTS.scheduler),
    has: (plugin) => client.plugins.includes(PLUGIN_NAMES[plugin]),
  };
  for (const entry of offered) entries.offer(entry);
  return bot;
}

/**
 * The client URL of a bot's `--server` (core/client/server-url.ts: `host:port` or a URL).
 *
 * @throws ConfabError BOT_OPTION_INVALID when it is none of those.
 * @example
 *   botServerUrl('127.0.0.1:5000')  // 'tcp://127.0.0.1:5000'
 */
export function botServerUrl(server: string): string {
  const url = serverUrl(server);
  if (url === undefined) throw new ConfabError('BOT_OPTION_INVALID', `--server must be host:port or a tcp://, tls://, ws:// or wss:// URL; got "${server}"`);
  return url;
}
