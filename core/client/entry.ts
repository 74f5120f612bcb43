/**
 * A plugin's client entry: its client half and what it shows in the web and terminal clients, in one
 * module. The clients find it without being edited: the web client bundles the entries of the plugins its
 * server runs, `confab join --config` and `confab bot run --config` import those of the config's plugins
 * (a plugin names its entry module with `client: new URL('./entry.ts', import.meta.url)`), and the built-in
 * plugins' entries are listed in plugins/clients.ts. Each client attaches an entry's half only when the
 * server announces its plugin in WELCOME (core/client/entries.ts).
 */
import { ConfabError } from '../errors.js';
import type { TerminalContext, TerminalView, WebExtension } from './extensions.js';
import type { ClientPlugin } from './types.js';

/** A plugin's client entry: what `defineClientEntry` returns and an entry module exports by default. */
export interface ClientEntry<Api> {
  /** The name of the server plugin, as WELCOME announces it (`polls`); the half's name is the same. */
  readonly name: string;
  /** Creates the plugin's client half. */
  create(): ClientPlugin<Api>;
  /** A tab and tile overlays for the web client. */
  readonly web?: WebExtension<Api>;
  /** The panel and slash commands for the terminal client, made once the half is attached. */
  terminal?(context: TerminalContext<Api>): TerminalView;
}

/** Any client entry, whatever its API. */
export type AnyClientEntry = ClientEntry<any>;

/**
 * Gives a client entry its types; returns it unchanged. The default export of a plugin's `entry.ts`.
 *
 * @example
 *   export default defineClientEntry({
 *     name: 'polls',
 *     create: () => pollsClient(),
 *     web: { panel: { label: 'Polls', mount: (root, { api }) => mountPollsPanel(root, api) } },
 *     terminal: (context) => pollsTerminal(context),
 *   });
 */
export function defineClientEntry<Api>(entry: ClientEntry<Api>): ClientEntry<Api> {
  return entry;
}

/**
 * Checks what an entry module exports by default: an object with a plugin `name` and `create`. Returns it,
 * or throws PLUGIN_INVALID naming `where` (the module).
 */
export function checkClientEntry(value: unknown, where: string): AnyClientEntry {
  const entry = value as Partial<AnyClientEntry> | null;
  const invalid = (what: string): ConfabError =>
    new ConfabError('PLUGIN_INVALID', `${where}: its default export must be a client entry (defineClientEntry({ name, create, … })); ${what}`);
  if (typeof entry !== 'object' || entry === null) throw invalid(`got ${entry === null ? 'null' : typeof entry}`);
  if (typeof entry.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(entry.name)) throw invalid('its name must be the server plugin\'s name');
  if (typeof entry.create !== 'function') throw invalid('create must be a function that returns the client half');
  if (entry.terminal !== undefined && typeof entry.terminal !== 'function') throw invalid('terminal must be a function');
  return entry as AnyClientEntry;
}
