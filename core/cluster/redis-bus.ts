/**
 * The cluster's bus on Redis pub/sub (ClusterBus in core/cluster/types.ts; docs/cluster.md, "Redis: the
 * directory and the bus").
 *
 * Each topic is the channel `<prefix>bus:<topic>`; a message is the JSON `{"from": <node id>, "data": {…}}`.
 * Publishing and `once` use one connection; subscribing uses another (a subscribed connection can do nothing
 * else), which subscribes again to every topic with a handler each time it is back after a loss. Messages
 * published while a node's subscriber is reconnecting are not delivered to it (pub/sub keeps nothing).
 */
import { ConfabError } from '../errors.js';
import type { JsonObject } from '../json.js';
import type { Logger } from '../logger.js';
import { connectRedis } from './redis.js';
import type { BusMessage, ClusterBus } from './types.js';

/** Options of `createRedisBus`. */
export interface RedisBusOptions {
  /** The Redis URL (`redis://[:password@]host:port[/db]`); only its redacted form is ever logged. */
  redis: string;
  /** This node's id: the `from` of what it publishes. */
  node: string;
  /** What every channel and key starts with. Default `confab:`. */
  keyPrefix?: string;
  /** Where losses of Redis and failing handlers are logged. Default: nowhere. */
  log?: Logger;
}

/**
 * The bus on Redis pub/sub. Both connections start at once; a publish made before the first connection is up
 * waits for it, and later ones fail at once (CLUSTER_UNAVAILABLE, retryable) while Redis cannot be reached.
 *
 * @example
 *   const bus = createRedisBus({ redis: process.env.CONFAB_REDIS_URL!, node: 'lab-host-w0-3f9a' });
 *   const off = bus.subscribe('auth.revoked', ({ from, data }) => revokeLocally(data));
 *   await bus.publish('auth.revoked', { jti: 'a1b2' }); // every node's subscribers, this one's included
 *   if (await bus.once(`meeting-start:${id}`, 60_000)) announce(id); // one node of all
 *   off();
 *   await bus.close();
 */
export function createRedisBus(options: RedisBusOptions): ClusterBus {
  const prefix = options.keyPrefix ?? 'confab:';
  const channelPrefix = `${prefix}bus:`;
  const log = options.log;
  const pub = connectRedis(options.redis, { name: 'confab-bus', ...(log ? { log } : {}) });
  const sub = connectRedis(options.redis, { name: 'confab-bus-sub', ...(log ? { log } : {}) });
  const handlers = new Map<string, Set<(message: BusMessage) => void>>();
  let closing: Promise<void> | undefined;

  const closedError = () => new ConfabError('CLUSTER_UNAVAILABLE', 'the bus is closed', { retryable: false });

  // Subscribes to every topic with handlers: at each (re)connection, since a subscribe tried while Redis was
  // away never happened and ioredis only resubscribes what did.
  sub.client.on('ready', () => {
    const channels = [...handlers.keys()].map((topic) => channelPrefix + topic);
    if (channels.length > 0) {
      sub.client.subscribe(...channels).catch((error: Error) => log?.debug('subscribing to the bus failed; retried on reconnection', { error: error.message }));
    }
  });

  sub.client.on('message', (channel: string, text: string) => {
    if (closing || !channel.startsWith(channelPrefix)) return;
    const topic = channel.slice(channelPrefix.length);
    const set = handlers.get(topic);
    if (!set) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const envelope = parsed as { from?: unknown; data?: unknown } | undefined;
    if (typeof envelope?.from !== 'string' || typeof envelope.data !== 'object' || envelope.data === null || Array.isArray(envelope.data)) {
      log?.warn('dropped a bus message that is not {from, data}', { topic });
      return;
    }
    const message: BusMessage = { topic, from: envelope.from, data: envelope.data as JsonObject };
    for (const handler of [...set]) {
      try {
        handler(message);
      } catch (error) {
        log?.error('a bus subscriber failed', { topic, error: String(error) });
      }
    }
  });

  pub.start().catch(() => {});
  sub.start().catch(() => {});

  return {
    async publish(topic, data) {
      if (closing) throw closedError();
      const text = JSON.stringify({ from: options.node, data });
      await pub.run(`publishing on ${topic}`, (client) => client.publish(channelPrefix + topic, text));
    },

    subscribe(topic, handler) {
      if (closing) return () => {};
      let set = handlers.get(topic);
      if (!set) {
        set = new Set();
        handlers.set(topic, set);
        if (sub.ready) {
          sub.client.subscribe(channelPrefix + topic).catch((error: Error) => log?.debug('subscribing to the bus failed; retried on reconnection', { topic, error: error.message }));
        }
      }
      // The same function subscribed twice is called twice: each subscription is its own.
      const own = (message: BusMessage) => handler(message);
      set.add(own);
      return () => {
        const current = handlers.get(topic);
        if (!current?.delete(own) || current.size > 0) return;
        handlers.delete(topic);
        if (sub.ready) sub.client.unsubscribe(channelPrefix + topic).catch(() => {});
      };
    },

    async once(key, ttlMs) {
      if (closing) throw closedError();
      const ttl = Math.max(1, Math.ceil(ttlMs));
      const set = await pub.run(`claiming once ${key}`, (client) => client.set(`${prefix}once:${key}`, options.node, 'PX', ttl, 'NX'));
      return set === 'OK';
    },

    close() {
      closing ??= (async () => {
        handlers.clear();
        await Promise.all([pub.close(), sub.close()]);
      })();
      return closing;
    },
  };
}
