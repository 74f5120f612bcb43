/**
 * The built-in plugins' client entries, one list mirroring plugins/index.ts: every built-in plugin with a
 * client half, under the plugin's name. The web client, the terminal client and the bots attach their
 * halves from here (`entries.use(BUILTIN_CLIENTS.chat)`); a plugin that is not built in brings its entry
 * itself (`client: new URL('./entry.ts', import.meta.url)`, core/client/entry.ts). Discovery and web have
 * no client half. Platform-neutral: the browser bundle imports it, so a Node-only half (the files plugin's,
 * which reads paths) is passed by the Node clients in place of `create()`.
 */
import { defineClientEntry } from '../core/client/entry.js';
import { audioClient } from './audio-mix/client.js';
import { chatClient } from './chat/client.js';
import { filesClient } from './files/client.js';
import { moderationClient } from './moderation/client.js';
import { schedulerClient } from './scheduler/client.js';
import { screenClient } from './screen/client.js';
import { videoClient } from './video-relay/client.js';

/** The built-in client entries by plugin name, in the order of `builtinPlugins()`. */
export const BUILTIN_CLIENTS = {
  moderation: defineClientEntry({ name: 'moderation', create: () => moderationClient() }),
  chat: defineClientEntry({ name: 'chat', create: () => chatClient() }),
  files: defineClientEntry({ name: 'files', create: () => filesClient() }),
  'video-relay': defineClientEntry({ name: 'video-relay', create: () => videoClient() }),
  'audio-mix': defineClientEntry({ name: 'audio-mix', create: () => audioClient() }),
  screen: defineClientEntry({ name: 'screen', create: () => screenClient() }),
  scheduler: defineClientEntry({ name: 'scheduler', create: () => schedulerClient() }),
} as const;
