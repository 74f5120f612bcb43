/**
 * The plugin client halves attached to one client: each gets its context (send, handlers, events), and the
 * server's non-fatal errors about a plugin's channels are routed to the plugin that uses them.
 */
import { ConfabError } from '../errors.js';
import { Emitter } from './emitter.js';
import type { ClientPlugin, ClientPluginContext } from './types.js';

/** What the client keeps for each attached plugin: the channels it uses, for routing server errors. */
interface PluginRecord {
  channels: Set<string>;
  errors: Emitter<{ error: [ConfabError] }>;
}

/** The client's side of a plugin context: what every plugin's `send`, `onMessage` and `on` do. */
export type PluginHost = Omit<ClientPluginContext, 'onError'>;

/** A client's attached plugins, by name. */
export class ClientPlugins {
  readonly #records = new Map<string, PluginRecord>();

  /**
   * Attaches a plugin and returns its API. Throws PLUGIN_INVALID for a second plugin of the same name;
   * a plugin whose `attach` throws is not kept.
   */
  attach<Api>(plugin: ClientPlugin<Api>, host: PluginHost): Api {
    if (this.#records.has(plugin.name)) {
      const message = `a client plugin named "${plugin.name}" is already attached`;
      throw new ConfabError('PLUGIN_INVALID', message, { fatal: false });
    }
    const record: PluginRecord = { channels: new Set(), errors: new Emitter() };
    const ctx: ClientPluginContext = {
      client: host.client,
      send: (channel, message) => {
        record.channels.add(channel);
        return host.send(channel, message);
      },
      onMessage: (channel, handler) => {
        record.channels.add(channel);
        host.onMessage(channel, handler);
      },
      onError: (handler) => void record.errors.on('error', handler),
      on: host.on,
    };
    this.#records.set(plugin.name, record);
    try {
      return plugin.attach(ctx);
    } catch (error) {
      this.#records.delete(plugin.name);
      throw error;
    }
  }

  /** Hands a server error that names a channel to the plugins that use that channel. */
  routeError(error: ConfabError): void {
    if (error.channel === undefined) return;
    for (const record of this.#records.values()) if (record.channels.has(error.channel)) record.errors.emit('error', error);
  }
}
