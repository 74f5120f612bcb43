/**
 * A tiny typed event emitter for the client SDK, with no Node imports so it runs in the browser too.
 * Typed as mediasoup's: an events map from name to the listener's argument tuple.
 */

/** An events map: event name → the arguments its listeners receive. */
export type EventMap = { [event: string]: unknown[] };

/** A listener for one event of `Events`. */
export type Listener<Events extends EventMap, K extends keyof Events> = (...args: Events[K]) => void;

interface Entry {
  /** A `Listener` of the entry's event; stored untyped because one map holds every event's listeners. */
  listener: unknown;
  once: boolean;
}

/**
 * A typed event emitter.
 *
 * A listener that throws does not stop the other listeners nor the code that emitted: its error is rethrown
 * from a microtask, so it still surfaces (as an uncaught exception) like any other bug. Emitting an event
 * nobody listens to, `error` included, does nothing.
 *
 * @example
 *   type Events = { peerJoined: [Peer]; close: [{ reason: string }] };
 *   class Client extends Emitter<Events> {}
 *   client.on('peerJoined', (peer) => console.log(peer.name));
 */
export class Emitter<Events extends EventMap> {
  #listeners = new Map<keyof Events, Entry[]>();

  /** Calls `listener` every time `event` is emitted. */
  on<K extends keyof Events>(event: K, listener: Listener<Events, K>): this {
    return this.#add(event, listener, false);
  }

  /** Calls `listener` the next time `event` is emitted, then forgets it. */
  once<K extends keyof Events>(event: K, listener: Listener<Events, K>): this {
    return this.#add(event, listener, true);
  }

  /** Removes one registration of `listener` for `event` (by `on` or `once`). */
  off<K extends keyof Events>(event: K, listener: Listener<Events, K>): this {
    const entry = this.#listeners.get(event)?.find((candidate) => candidate.listener === listener);
    if (entry) this.#remove(event, entry);
    return this;
  }

  /** How many listeners `event` has. */
  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** Calls the listeners of `event` in the order they were added. Returns whether there were any. */
  emit<K extends keyof Events>(event: K, ...args: Events[K]): boolean {
    const entries = this.#listeners.get(event);
    if (!entries) return false;
    for (const entry of [...entries]) {
      if (entry.once) this.#remove(event, entry);
      try {
        (entry.listener as Listener<Events, K>)(...args);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    return true;
  }

  #remove(event: keyof Events, entry: Entry): void {
    const entries = this.#listeners.get(event);
    const index = entries?.indexOf(entry) ?? -1;
    if (!entries || index < 0) return;
    entries.splice(index, 1);
    if (entries.length === 0) this.#listeners.delete(event);
  }

  #add<K extends keyof Events>(event: K, listener: Listener<Events, K>, once: boolean): this {
    let entries = this.#listeners.get(event);
    if (!entries) this.#listeners.set(event, (entries = []));
    entries.push({ listener, once });
    return this;
  }
}
