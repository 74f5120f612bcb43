/**
 * The embedded default's bus (ClusterBus in core/cluster/types.ts): everything stays in the process. It
 * behaves like the Redis bus seen from one node, so a plugin runs the same in both: delivery is asynchronous
 * (never inside `publish`), each subscriber gets its own copy of the data as JSON would carry it, and `once`
 * is true once per key until its time is up.
 */
import { ConfabError } from '../errors.js';
import type { JsonObject } from '../json.js';
import type { Logger } from '../logger.js';
import type { BusMessage, ClusterBus } from './types.js';

/** Above this many remembered `once` keys, expired ones are swept at the next call. */
const SWEEP_ABOVE = 256;

/**
 * The in-process bus. `node` is the `from` of its messages; a subscriber that throws is logged to `log`.
 *
 * @example
 *   const bus = createLocalBus();
 *   bus.subscribe('auth.revoked', ({ data }) => console.log(data.jti));
 *   await bus.publish('auth.revoked', { jti: 'a1b2' }); // logged just after, not during publish
 *   await bus.once('meeting-start:42', 60_000); // true; false again until a minute has passed
 */
export function createLocalBus(node = 'local', log?: Logger): ClusterBus {
  const handlers = new Map<string, Set<(message: BusMessage) => void>>();
  /** `once` keys and when each expires (ms since the epoch). */
  const onceUntil = new Map<string, number>();
  let closed = false;

  const closedError = () => new ConfabError('CLUSTER_UNAVAILABLE', 'the bus is closed', { retryable: false });

  return {
    async publish(topic, data) {
      if (closed) throw closedError();
      // As over Redis: what is not JSON fails here, and nothing a subscriber does reaches the publisher's object.
      const text = JSON.stringify({ from: node, data });
      setImmediate(() => {
        const set = handlers.get(topic);
        if (closed || !set) return;
        for (const handler of [...set]) {
          const { from, data: copy } = JSON.parse(text) as { from: string; data: JsonObject };
          try {
            handler({ topic, from, data: copy });
          } catch (error) {
            // One failing subscriber must not keep the message from the others.
            log?.error('a bus subscriber failed', { topic, error: String(error) });
          }
        }
      });
    },

    subscribe(topic, handler) {
      if (closed) return () => {};
      let set = handlers.get(topic);
      if (!set) handlers.set(topic, (set = new Set()));
      const own = (message: BusMessage) => handler(message);
      set.add(own);
      return () => {
        const current = handlers.get(topic);
        if (current?.delete(own) && current.size === 0) handlers.delete(topic);
      };
    },

    async once(key, ttlMs) {
      if (closed) throw closedError();
      const now = Date.now();
      if (onceUntil.size > SWEEP_ABOVE) {
        for (const [k, until] of onceUntil) if (until <= now) onceUntil.delete(k);
      }
      const until = onceUntil.get(key);
      if (until !== undefined && until > now) return false;
      onceUntil.set(key, now + Math.max(1, Math.ceil(ttlMs)));
      return true;
    },

    async close() {
      closed = true;
      handlers.clear();
      onceUntil.clear();
    },
  };
}
