/**
 * The context each plugin's `setup` receives: hooks, its own channels, typed per-room and per-session
 * state, a store, a data directory and a logger.
 */
import { join } from 'node:path';
import { createChannel, type ChannelRegistry } from './channels.js';
import { ConfabError } from './errors.js';
import type { ServerHooks } from './hooks.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { Room } from './room.js';
import type { Session } from './session.js';
import type { Connection, Plugin, PluginContext, PluginStore, ResolvedServerOptions, StateSlot } from './types.js';

/** What the server lends to plugin contexts. */
export interface PluginHost {
  hooks: ServerHooks;
  options: ResolvedServerOptions;
  log: Logger;
  metrics: Metrics;
  channels: ChannelRegistry;
  storeFor(plugin: string): PluginStore;
  rooms: Map<string, Room>;
  accept(connection: Connection): void;
  /** Names of every plugin, in order. */
  plugins: readonly string[];
  /** The plugin object of that name, if the server runs it. */
  plugin(name: string): Plugin | undefined;
}

/** Builds the context for one plugin. */
export function createPluginContext(plugin: Plugin, host: PluginHost): PluginContext {
  let store: PluginStore | undefined;
  return {
    hooks: host.hooks,
    options: host.options,
    log: host.log.child(plugin.name),
    metrics: host.metrics,
    get store() {
      store ??= host.storeFor(plugin.name);
      return store;
    },
    dataDir: join(host.options.dataDir, 'plugins', plugin.name),
    channel(name: string) {
      const definition = host.channels.byName.get(name);
      if (!definition || definition.plugin !== plugin.name) {
        throw new ConfabError('PLUGIN_INVALID', `plugin "${plugin.name}" has no channel "${name}"; declare it in channels`);
      }
      return createChannel(definition, host.hooks, host.metrics);
    },
    perRoom: <T>(create: (room: Room) => T) => stateSlot(create),
    perSession: <T>(create: (session: Session) => T) => stateSlot(create),
    room: (name: string) => host.rooms.get(name),
    rooms: () => host.rooms.values(),
    accept: (connection: Connection) => host.accept(connection),
    plugins: host.plugins,
    plugin: (name: string) => host.plugin(name),
  };
}

/** State kept in a WeakMap: created on first `get`, collected with its owner. */
function stateSlot<Owner extends object, T>(create: (owner: Owner) => T): StateSlot<Owner, T> {
  const values = new WeakMap<Owner, T>();
  return {
    get(owner: Owner): T {
      if (values.has(owner)) return values.get(owner) as T;
      const value = create(owner);
      values.set(owner, value);
      return value;
    },
  };
}
