/**
 * The built-in plugins, applied from one list exactly like a user's (webpack's way). `confab serve` uses
 * this list when there is no plugins.config.ts, and the root plugins.config.ts starts from it.
 */
import type { Plugin } from '../core/types.js';

/** A fresh instance of every built-in plugin, with default options, in dependency order. */
export function builtinPlugins(): Plugin[] {
  return [];
}
