/**
 * The discovery plugin, client half (Node only: it needs a UDP socket): listens for servers' beacons and
 * keeps a list of the servers heard within the TTL. The socket only listens — it never sends a byte, so a
 * beacon cannot be answered, reflected or amplified. Datagrams that are not valid beacons are counted
 * in `ignored` and change nothing.
 *
 * @example
 *   // One look: the servers heard within 6 s.
 *   for (const server of await discover({ timeoutMs: 6000 })) console.log(server.name, server.url);
 *
 *   // A live list, as the terminal UI keeps it.
 *   const browser = new ServerBrowser();
 *   browser.on('found', (server) => console.log('found', server.name, server.url));
 *   browser.on('lost', (server) => console.log('lost', server.name));
 *   await browser.start();
 *   …
 *   await browser.close();
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { Emitter } from '../../core/client/emitter.js';
import { DEFAULT_BEACON_PORT, DEFAULT_TTL_MS, parseBeacon, type Beacon } from './protocol.js';

/** A server heard on the network. */
export interface DiscoveredServer {
  name: string;
  version: string;
  /** The address the beacon came from. */
  host: string;
  /** The server's TCP port. */
  port: number;
  /** Where to connect the client SDK: `tcp://host:port`. */
  url: string;
  /** True when the server needs a token. */
  auth: boolean;
  rooms: number;
  /** When its last beacon arrived, ms since the epoch. */
  lastSeen: number;
}

/** Options of a `ServerBrowser` and of `discover()`. */
export interface BrowserOptions {
  /** UDP port to listen on for beacons. Default 5001; 0 picks a free one (see `browser.port`). */
  port?: number;
  /** Local address to listen on. Default 0.0.0.0 (every interface; needed to hear broadcasts). */
  address?: string;
  /** A server is forgotten this long after its last beacon. Default 15 000 ms. */
  ttlMs?: number;
}

/** Events of a `ServerBrowser`. */
export type BrowserEvents = {
  /** A server was heard for the first time (or again after it was forgotten). */
  found: [DiscoveredServer];
  /** A listed server's beacon said something new (its room count, its name…). */
  updated: [DiscoveredServer];
  /** A server was forgotten: its TTL ran out, or it said it is closing. */
  lost: [DiscoveredServer];
};

/** Listens for beacons and keeps the list of servers heard within the TTL. */
export class ServerBrowser extends Emitter<BrowserEvents> {
  readonly #options: Required<BrowserOptions>;
  readonly #servers = new Map<string, DiscoveredServer>();
  #socket: Socket | undefined;
  #sweep: ReturnType<typeof setInterval> | undefined;
  #ignored = 0;

  constructor(options: BrowserOptions = {}) {
    super();
    this.#options = {
      port: options.port ?? DEFAULT_BEACON_PORT,
      address: options.address ?? '0.0.0.0',
      ttlMs: options.ttlMs ?? DEFAULT_TTL_MS,
    };
  }

  /** The servers listed now, by name then address. */
  get servers(): DiscoveredServer[] {
    return [...this.#servers.values()].sort((a, b) => a.name.localeCompare(b.name) || a.url.localeCompare(b.url));
  }

  /** Datagrams received that were not valid beacons (foreign, oversized, malformed). */
  get ignored(): number {
    return this.#ignored;
  }

  /** The UDP port listened on, once started. */
  get port(): number | undefined {
    return this.#socket?.address().port;
  }

  /**
   * Starts listening. Several browsers (and programs) on one machine can listen on the same port at once.
   * Rejects with the socket's error (EADDRNOTAVAIL for a bad address…).
   */
  async start(): Promise<void> {
    if (this.#socket) return;
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.#options.port, this.#options.address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('message', (datagram, from) => this.#receive(datagram, from));
    // After a successful bind, receive errors are transient (ICMP noise); the socket keeps listening.
    socket.on('error', () => undefined);
    this.#socket = socket;
    this.#sweep = setInterval(() => this.#forgetExpired(), Math.max(10, Math.min(1000, Math.floor(this.#options.ttlMs / 4))));
  }

  /** Stops listening and empties the list. Idempotent. */
  async close(): Promise<void> {
    clearInterval(this.#sweep);
    this.#sweep = undefined;
    const socket = this.#socket;
    this.#socket = undefined;
    this.#servers.clear();
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  #receive(datagram: Buffer, from: RemoteInfo): void {
    const beacon = parseBeacon(datagram);
    if (!beacon) {
      this.#ignored++;
      return;
    }
    const key = `${from.address}:${beacon.port}`;
    const known = this.#servers.get(key);
    if (beacon.closing) {
      if (!known) return;
      this.#servers.delete(key);
      this.emit('lost', known);
      return;
    }
    const server = toServer(beacon, from.address);
    this.#servers.set(key, server);
    if (!known) this.emit('found', server);
    else if (changed(known, server)) this.emit('updated', server);
  }

  #forgetExpired(): void {
    const oldest = Date.now() - this.#options.ttlMs;
    for (const [key, server] of this.#servers) {
      if (server.lastSeen >= oldest) continue;
      this.#servers.delete(key);
      this.emit('lost', server);
    }
  }
}

/**
 * Listens for `timeoutMs` (default 6000: more than one beacon interval) and resolves with the servers heard.
 *
 * @example
 *   const [first] = await discover({ timeoutMs: 3000 });
 *   if (first) await connect({ url: first.url, name: 'alice' });
 */
export async function discover(options: BrowserOptions & { timeoutMs?: number } = {}): Promise<DiscoveredServer[]> {
  const { timeoutMs = 6000, ...browserOptions } = options;
  const browser = new ServerBrowser(browserOptions);
  await browser.start();
  await new Promise((resolve) => setTimeout(resolve, timeoutMs));
  const found = browser.servers;
  await browser.close();
  return found;
}

function toServer(beacon: Beacon, host: string): DiscoveredServer {
  return {
    name: beacon.name,
    version: beacon.version,
    host,
    port: beacon.port,
    url: `tcp://${host}:${beacon.port}`,
    auth: beacon.auth,
    rooms: beacon.rooms,
    lastSeen: Date.now(),
  };
}

function changed(before: DiscoveredServer, after: DiscoveredServer): boolean {
  return before.name !== after.name || before.version !== after.version || before.auth !== after.auth || before.rooms !== after.rooms;
}
