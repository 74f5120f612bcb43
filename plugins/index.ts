/**
 * The built-in plugins, applied from one list exactly like a user's (webpack's way). `confab serve` uses
 * this list when there is no plugins.config.ts, and the root plugins.config.ts starts from it.
 */
import type { Plugin } from '../core/types.js';
import { audioMix, type AudioMixOptions } from './audio-mix/server.js';
import { chat, type ChatOptions } from './chat/server.js';
import { discovery, type DiscoveryOptions } from './discovery/server.js';
import { files, type FilesOptions } from './files/server.js';
import { moderation, type ModerationOptions } from './moderation/server.js';
import { scheduler, type SchedulerOptions } from './scheduler/server.js';
import { screen, type ScreenOptions } from './screen/server.js';
import { videoRelay, type VideoRelayOptions } from './video-relay/server.js';
import { web, type WebOptions } from './web/server.js';

/** Options for the built-in plugins, by plugin name. */
export interface BuiltinOptions {
  chat?: ChatOptions;
  moderation?: ModerationOptions;
  files?: FilesOptions;
  scheduler?: SchedulerOptions;
  discovery?: DiscoveryOptions;
  'video-relay'?: VideoRelayOptions;
  'audio-mix'?: AudioMixOptions;
  screen?: ScreenOptions;
  web?: WebOptions;
}

/**
 * A fresh instance of every built-in plugin, in dependency order. Not `auth`: access control is turned on
 * by listing it first in plugins.config.ts, `plugins: [auth(), ...builtinPlugins()]` (plugins/auth).
 *
 * @example
 *   defineConfig({ plugins: builtinPlugins({ chat: { historyLimit: 500 } }) });
 */
export function builtinPlugins(options: BuiltinOptions = {}): Plugin[] {
  return [moderation(options.moderation), chat(options.chat), files(options.files), videoRelay(options['video-relay']), audioMix(options['audio-mix']), screen(options.screen), scheduler(options.scheduler), discovery(options.discovery), web(options.web)];
}
