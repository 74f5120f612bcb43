/**
 * The plugin client halves a bot (or the terminal client) attaches: one place that knows them all, so every
 * built-in bot gets the same set. A half whose plugin the server lacks stays attached but unused; `has()`
 * tells from WELCOME's channel list whether the server has it.
 */
import { ConfabClient, ConfabError, serverUrl } from '../core/client/node.js';
import type { ClientOptions } from '../core/client/types.js';
import { audioClient, type AudioApi, type AudioClientOptions } from '../plugins/audio-mix/client.js';
import { chatClient, type ChatApi } from '../plugins/chat/client.js';
import { filesClient, type FilesApi } from '../plugins/files/client-node.js';
import { schedulerClient, type SchedulerApi } from '../plugins/scheduler/client.js';
import { screenClient, type ScreenApi } from '../plugins/screen/client.js';
import { videoClient, type VideoApi } from '../plugins/video-relay/client.js';

/** The client halves of the built-in plugins, attached to one client. */
export interface PluginClients {
  chat: ChatApi;
  video: VideoApi;
  audio: AudioApi;
  files: FilesApi;
  screen: ScreenApi;
  scheduler: SchedulerApi;
}

/** Plugin name → the channel whose presence in WELCOME says the server runs it. */
const PLUGIN_CHANNELS = {
  chat: 'chat',
  video: 'video',
  audio: 'audio',
  files: 'files',
  screen: 'screen',
  scheduler: 'scheduler',
} as const satisfies Record<keyof PluginClients, string>;

/** A connected-to-be client with every built-in plugin's half attached. */
export interface BotClient extends PluginClients {
  client: ConfabClient;
  /** Whether the server runs that plugin (known after WELCOME). */
  has(plugin: keyof PluginClients): boolean;
}

/** Options of `createBotClient`: the client's, plus the audio half's (default: Opus, not listening). */
export interface BotClientOptions extends ClientOptions {
  audio?: AudioClientOptions;
}

/**
 * Creates a client (not yet connected) with the built-in client halves attached.
 *
 * @example
 *   const bot = createBotClient({ url: 'tcp://127.0.0.1:5000', name: 'rec', room: 'lab' });
 *   await bot.client.connect();
 *   if (bot.has('video')) bot.video.subscribe({});
 */
export function createBotClient(options: BotClientOptions): BotClient {
  const { audio, ...clientOptions } = options;
  const client = new ConfabClient({ clientKind: 'bot', ...clientOptions });
  return {
    client,
    chat: client.use(chatClient()),
    video: client.use(videoClient()),
    audio: client.use(audioClient({ listen: false, ...audio })),
    files: client.use(filesClient()),
    screen: client.use(screenClient()),
    scheduler: client.use(schedulerClient()),
    has: (plugin) => client.channels.has(PLUGIN_CHANNELS[plugin]),
  };
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
