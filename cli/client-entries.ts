/**
 * The client entries a config file registers, for `confab join --config` and `confab bot run --config`:
 * the default export of the `client` module of each of its plugins that names one (core/client/entry.ts),
 * in the plugins' order. The CLI runs on tsx, so the modules may be TypeScript.
 */
import { fileURLToPath } from 'node:url';
import { checkClientEntry, type AnyClientEntry } from '../core/client/entry.js';
import { loadConfigFile } from '../core/config-loader.js';
import { ConfabError } from '../core/errors.js';

/**
 * Loads the config file at `path` and imports its plugins' client entries.
 *
 * @throws ConfabError the config loader's codes (CONFIG_LOAD_FAILED, CONFIG_INVALID, PLUGIN_INVALID), or
 *   PLUGIN_INVALID naming an entry module that does not load or exports no entry.
 * @example
 *   const entries = await loadClientEntries('plugins.config.ts');   // [the polls entry, …]
 */
export async function loadClientEntries(path: string): Promise<AnyClientEntry[]> {
  const { config } = await loadConfigFile(path);
  const entries: AnyClientEntry[] = [];
  for (const plugin of config.plugins ?? []) {
    if (plugin.client === undefined) continue;
    const file = fileURLToPath(plugin.client);
    let module: { default?: unknown };
    try {
      module = (await import(plugin.client.href)) as { default?: unknown };
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new ConfabError('PLUGIN_INVALID', `plugin "${plugin.name}": its client entry ${file} does not load: ${why}`, { cause: error });
    }
    entries.push(checkClientEntry(module.default, `plugin "${plugin.name}": ${file}`));
  }
  return entries;
}
