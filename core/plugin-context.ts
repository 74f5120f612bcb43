/**
 * The context each plugin's `setup` receives: hooks, its own typed channels, state per room and per session
 * that goes with its owner, timers that die with their room or session, services, a store, a data
 * directory and a logger.
 */
import { join } from 'node:path';
import type { ChannelDef } from './channel-def.js';
import { createChannel, type ChannelRegistry } from './channels.js';
import { ConfabError } from './errors.js';
import type { ClusterNode } from './cluster/node.js';
import type { Grant } from './grants.js';
import type { ServerHooks } from './hooks.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { Room } from './room.js';
import type { ServiceKey } from './services.js';
import type { Session } from './session.js';
import type { Channel, Connection, Plugin, PluginContext, PluginStore, ResolvedServerOptions, StateOptions, StateSlot } from './types.js';

/** What the server lends to plugin contexts. */
export interface PluginHost {
  hooks: ServerHooks;
  options: ResolvedServerOptions;
  log: Logger;
  metrics: Metrics;
  channels: ChannelRegistry;
  storeFor(plugin: string): PluginStore;
  rooms: Map<string, Room>;
  /** The server's cluster node, once it listens in cluster mode. */
  cluster(): ClusterNode | undefined;
  accept(connection: Connection): void;
  /** Names of every plugin, in order. */
  plugins: readonly string[];
  /** The plugin object of that name, if the server runs it. */
  plugin(name: string): Plugin | undefined;
  /** The services provided so far, by key name. */
  services: Map<string, unknown>;
  /** Every grant a session may hold on this server. */
  grants: ReadonlySet<Grant>;
}

/** Builds the context for one plugin. */
export function createPluginContext(plugin: Plugin, host: PluginHost): PluginContext {
  let store: PluginStore | undefined;
  const owned = new OwnedResources(host.hooks, plugin.name);
  const declared = (list: readonly { name: string }[] | undefined, key: ServiceKey<unknown>) => list?.some((k) => k.name === key.name) ?? false;
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
    channel<Request, Message>(channelDefinition: ChannelDef<Request, Message>): Channel<Request, Message> {
      const name = channelDefinition.name;
      const definition = host.channels.byName.get(name);
      if (!definition || definition.plugin !== plugin.name) {
        throw new ConfabError('PLUGIN_INVALID', `plugin "${plugin.name}" has no channel "${name}"; declare it in channels`);
      }
      // The channel checks what clients send with the definition's parse: its requests are of its type.
      return createChannel(definition, host.hooks, host.metrics) as Channel<Request, Message>;
    },
    perRoom: <T>(create: (room: Room) => T, options?: StateOptions<Room, T>) => owned.state(create, options),
    perSession: <T>(create: (session: Session) => T, options?: StateOptions<Session, T>) => owned.state(create, options),
    setTimeout: (owner, ms, run) => owned.timer(owner, ms, run, false),
    setInterval: (owner, ms, run) => owned.timer(owner, ms, run, true),
    provide(key, implementation) {
      if (!declared(plugin.provides, key)) {
        throw new ConfabError('PLUGIN_INVALID', `plugin "${plugin.name}" provides service "${key.name}" without declaring it; add it to provides`);
      }
      host.services.set(key.name, implementation);
    },
    service<T>(key: ServiceKey<T>): T {
      if (!declared(plugin.requires, key)) {
        throw new ConfabError('PLUGIN_INVALID', `plugin "${plugin.name}" uses service "${key.name}" without declaring it; add it to requires (or call optionalService)`);
      }
      if (!host.services.has(key.name)) {
        throw new ConfabError('PLUGIN_INVALID', `service "${key.name}" is declared but its plugin did not provide it in setup`);
      }
      return host.services.get(key.name) as T;
    },
    optionalService: <T>(key: ServiceKey<T>) => host.services.get(key.name) as T | undefined,
    grants: host.grants,
    room: (name: string) => host.rooms.get(name),
    rooms: () => host.rooms.values(),
    get cluster() {
      const node = host.cluster();
      return node && { rooms: () => node.directory.rooms(), bus: node.bus };
    },
    accept: (connection: Connection) => host.accept(connection),
    plugins: host.plugins,
    plugin: (name: string) => host.plugin(name),
  };
}

type Owner = Room | Session;

/** The tapable stage of the release taps: after every tap at the default stage 0. */
const RELEASE_STAGE = 1000;

/**
 * What one plugin keeps per room and per session: its state slots and its timers, released when the owner
 * goes (the `roomDisposed` and `sessionLeft` hooks) or the server closes. The hooks are tapped on first use.
 */
class OwnedResources {
  readonly #hooks: ServerHooks;
  readonly #plugin: string;
  readonly #timers = new Map<Owner, Set<ReturnType<typeof setTimeout>>>();
  readonly #releases: Array<(owner: Owner | undefined) => void> = [];
  #tapped = false;

  constructor(hooks: ServerHooks, plugin: string) {
    this.#hooks = hooks;
    this.#plugin = plugin;
  }

  /** State kept per owner: created on first `get`, disposed and forgotten with its owner. */
  state<O extends Owner, T>(create: (owner: O) => T, options: StateOptions<O, T> = {}): StateSlot<O, T> {
    const values = new Map<O, T>();
    this.#onRelease((owner) => {
      for (const [key, value] of values) {
        if (owner !== undefined && key !== owner) continue;
        values.delete(key);
        options.dispose?.(value, key);
      }
    });
    return {
      get(owner: O): T {
        if (values.has(owner)) return values.get(owner) as T;
        const value = create(owner);
        values.set(owner, value);
        return value;
      },
      peek: (owner: O) => values.get(owner),
    };
  }

  /** A timeout or an interval that dies with its owner. */
  timer(owner: Owner, ms: number, run: () => void, repeat: boolean): () => void {
    this.#tap();
    let timers = this.#timers.get(owner);
    if (!timers) this.#timers.set(owner, (timers = new Set()));
    const handle: ReturnType<typeof setTimeout> = repeat ? setInterval(run, ms) : setTimeout(() => {
      timers.delete(handle);
      run();
    }, ms);
    timers.add(handle);
    return () => {
      clearTimeout(handle);
      timers.delete(handle);
    };
  }

  #onRelease(release: (owner: Owner | undefined) => void): void {
    this.#tap();
    this.#releases.push(release);
  }

  /** Releases what `owner` holds, or everything (undefined: the server closes). */
  #release(owner: Owner | undefined): void {
    for (const [key, timers] of this.#timers) {
      if (owner !== undefined && key !== owner) continue;
      for (const handle of timers) clearTimeout(handle);
      this.#timers.delete(key);
    }
    for (const release of this.#releases) release(owner);
  }

  /** Taps the hooks at a late stage, so the plugin's own taps still see the state of who is leaving. */
  #tap(): void {
    if (this.#tapped) return;
    this.#tapped = true;
    const tap = { name: `${this.#plugin}:owned`, stage: RELEASE_STAGE };
    this.#hooks.roomDisposed.tap(tap, (room) => this.#release(room));
    this.#hooks.sessionLeft.tap(tap, (session) => this.#release(session));
    this.#hooks.close.tapPromise(tap, async () => this.#release(undefined));
  }
}
