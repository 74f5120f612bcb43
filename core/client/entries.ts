/**
 * The client entries of one client: each entry's half is attached once the server announces its plugin in
 * WELCOME (`client.plugins`), and an entry becomes `available` (its half attached, its plugin announced)
 * for the web and terminal clients to show its extensions. An app that needs a half's API before it
 * connects (to listen to its events from the start) attaches it at once with `use()`.
 */
import { ConfabError } from '../errors.js';
import type { ConfabClient } from './client.js';
import { Emitter } from './emitter.js';
import type { AnyClientEntry, ClientEntry } from './entry.js';
import type { ClientPlugin } from './types.js';

/** An entry whose half is attached and whose plugin the server announces. */
export interface AvailableEntry<Api> {
  readonly entry: ClientEntry<Api>;
  /** The API its half returned. */
  readonly api: Api;
}

/** Events of `ClientEntries`. */
export type ClientEntriesEvents = {
  /** An entry became available: its half is attached and the server runs its plugin. Once per entry. */
  available: [AvailableEntry<any>];
};

/**
 * The entries of one client.
 *
 * @example
 *   const entries = new ClientEntries(client, [pollsEntry]);
 *   entries.on('available', ({ entry, api }) => console.log(`${entry.name} is here`));
 *   await client.connect();
 *   const polls = entries.api(pollsEntry);   // undefined when the server does not run polls
 */
export class ClientEntries extends Emitter<ClientEntriesEvents> {
  readonly #client: ConfabClient;
  /** Entries waiting for their plugin to be announced. */
  readonly #offered = new Map<string, AnyClientEntry>();
  /** Attached halves by plugin name. */
  readonly #attached = new Map<string, AvailableEntry<unknown>>();
  /** Names of the entries already reported `available`. */
  readonly #available = new Set<string>();

  /** `offered`: entries to attach when the server announces their plugin (see `offer`). */
  constructor(client: ConfabClient, offered: readonly AnyClientEntry[] = []) {
    super();
    this.#client = client;
    client.on('welcome', () => this.#update());
    for (const entry of offered) this.offer(entry);
  }

  /**
   * Attaches `entry`'s half now and returns its API, so an app can listen to it before connecting. `half`
   * replaces `entry.create()` where a platform has its own half of the same API (the files plugin's Node
   * half reads paths). Throws PLUGIN_INVALID for a second entry of the same name.
   */
  use<Api>(entry: ClientEntry<Api>, half: ClientPlugin<Api> = entry.create()): Api {
    this.#claim(entry.name);
    const api = this.#attach(entry, half);
    this.#update();
    return api;
  }

  /**
   * Attaches `entry`'s half when (and if) the server announces its plugin; at once when it already has.
   * Throws PLUGIN_INVALID for a second entry of the same name.
   */
  offer(entry: AnyClientEntry): void {
    this.#claim(entry.name);
    this.#offered.set(entry.name, entry);
    this.#update();
  }

  /** The API of `entry`'s half, once attached. */
  api<Api>(entry: ClientEntry<Api>): Api | undefined {
    return this.#attached.get(entry.name)?.api as Api | undefined;
  }

  /** The entries available now, in the order they became available. */
  get available(): ReadonlyArray<AvailableEntry<unknown>> {
    return [...this.#available].map((name) => this.#attached.get(name)!);
  }

  #claim(name: string): void {
    if (this.#offered.has(name) || this.#attached.has(name)) {
      throw new ConfabError('PLUGIN_INVALID', `a client entry named "${name}" is registered twice`);
    }
  }

  #attach<Api>(entry: ClientEntry<Api>, half: ClientPlugin<Api>): Api {
    if (half.name !== entry.name) {
      throw new ConfabError('PLUGIN_INVALID', `the client entry "${entry.name}" made a half named "${half.name}"; name both after the server plugin`);
    }
    const api = this.#client.use(half);
    this.#attached.set(entry.name, { entry, api });
    return api;
  }

  /** Attaches the offered entries the server announces now, and reports the entries that became available. */
  #update(): void {
    const announced = new Set(this.#client.plugins);
    for (const [name, entry] of this.#offered) {
      if (!announced.has(name)) continue;
      this.#offered.delete(name);
      try {
        this.#attach(entry, entry.create());
      } catch (error) {
        // A broken entry is reported, and the client and the other entries carry on.
        const cause = error instanceof Error ? error.message : String(error);
        this.#client.emit('error', new ConfabError('PLUGIN_INVALID', `the client entry "${name}" could not be attached: ${cause}`, { cause: error }));
      }
    }
    for (const [name, attached] of this.#attached) {
      if (!announced.has(name) || this.#available.has(name)) continue;
      this.#available.add(name);
      this.emit('available', attached);
    }
  }
}
