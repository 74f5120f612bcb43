/**
 * A server as one node of a cluster: it registers in the directory, takes the rooms placed on it, and sends
 * each connection whose room another node hosts to that node, as DESIGN.md's cluster mode says:
 *
 *   - the room is here (or the HELLO resumes a session here) → the server goes on with the handshake;
 *   - the directory places the room here → this node claims its lease, then the same;
 *   - another worker of the same `--workers` group hosts it and the client is on plain framed TCP → the
 *     socket itself is passed to that worker through the primary process (core/cluster/workers.ts);
 *   - anywhere else → the connection is relayed over an authenticated node link (core/cluster/node-link.ts).
 *
 * A connection that arrives over a node link is never sent on again: if its room is not here, it is refused
 * with ROOM_UNREACHABLE, which the client's rejoin retries.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import { ConfabError } from '../errors.js';
import type { Logger } from '../logger.js';
import { TcpConnection } from '../transports/tcp-connection.js';
import type { Connection, ValidHello } from '../types.js';
import { LinkPool } from './link-pool.js';
import { dialNodeLink, listenNodeLink, sendLinkClient, type LinkClient, type NodeLinkListener } from './node-link.js';
import { relayOverLink } from './relay.js';
import type { ClusterBus, ClusterDirectory, ClusterOptions, NodeInfo, NodeReport } from './types.js';

/** What the node needs of its server. */
export interface ClusterHost {
  readonly log: Logger;
  readonly maxPayload: number;
  /** The server's TLS context when it serves TLS: the node link then uses TLS too. */
  readonly tls: SecureContext | undefined;
  /** True when the room exists on this server. */
  hostsRoom(room: string): boolean;
  /** True when a session here has this resume token. */
  hasResumeToken(token: string): boolean;
  /** What the node reports to the directory every second. */
  report(): NodeReport;
  /** Takes a connection that another node or worker sent here (it is never routed again). */
  adopt(connection: Connection): void;
  /** Counts a refused node link. */
  linkRefused(reason: string, remoteAddress: string): void;
  /** Serves an HTTP connection that reached the link port (a scrape of this node's /metrics or /health). */
  http(socket: Socket): void;
}

/** What `route` decided: go on here, or the connection was handed to another node. */
export type Route = 'here' | 'moved';

/** A message between a worker and its primary that passes a client's socket to the worker hosting its room. */
export interface HandoverMessage {
  confab: 'handover';
  /** The worker number the socket goes to. */
  to: number;
  /** The node id the directory gave for that worker: a worker started again since then has another, and gets nothing. */
  node: string;
  /** The bytes already read from the socket (its HELLO first), base64. */
  bytes: string;
}

/** True for a HandoverMessage. */
export function isHandoverMessage(value: unknown): value is HandoverMessage {
  const message = value as Partial<HandoverMessage> | null;
  return typeof message === 'object' && message !== null && message.confab === 'handover'
    && typeof message.to === 'number' && typeof message.node === 'string' && typeof message.bytes === 'string';
}

/** A worker tells its primary that it takes passed sockets now, as this node. */
export interface ReadyMessage {
  confab: 'ready';
  node: string;
}

/** True for a ReadyMessage. */
export function isReadyMessage(value: unknown): value is ReadyMessage {
  const message = value as Partial<ReadyMessage> | null;
  return typeof message === 'object' && message !== null && message.confab === 'ready' && typeof message.node === 'string';
}

/** Opens the directory and the bus for a node (on Redis: core/cluster/redis-*.ts). */
export type ClusterConnector = (self: Omit<NodeInfo, 'load'>, options: ClusterOptions) => { directory: ClusterDirectory; bus: ClusterBus };

/** Where the node's server listens, for its registry entry. */
export interface NodeAddress {
  /** The server's host. */
  host: string;
  /** The server's UDP media port, when it has UDP on. */
  udpPort?: number;
}

/** The node's side of cluster mode; the server owns one when its `cluster` option is set. */
export class ClusterNode {
  /** This node's id: the machine, the worker number and a random part, new at every start. */
  readonly id: string;
  readonly #host: ClusterHost;
  readonly #options: ClusterOptions & { machine: string };
  readonly #connect: ClusterConnector;
  #directory: ClusterDirectory | undefined;
  #bus: ClusterBus | undefined;
  #link: NodeLinkListener | undefined;
  readonly #links = new Set<Socket>();
  readonly #spares = new LinkPool((target) => dialNodeLink({
    host: target.linkHost,
    port: target.linkPort,
    secret: this.#options.secret,
    node: this.self.id,
    expect: target.id,
    tls: this.#host.tls !== undefined,
  }));
  readonly #onWorkerMessage = (message: unknown, handle: unknown) => this.#takeHandover(message, handle);

  constructor(host: ClusterHost, options: ClusterOptions & { machine: string }, connect: ClusterConnector) {
    this.#host = host;
    this.#options = options;
    this.#connect = connect;
    const worker = options.worker !== undefined ? `-w${options.worker}` : '';
    this.id = `${options.machine}${worker}-${randomBytes(3).toString('hex')}`;
  }

  /** The directory, once started. */
  get directory(): ClusterDirectory {
    if (!this.#directory) throw new ConfabError('CLUSTER_UNAVAILABLE', 'the cluster node has not started yet');
    return this.#directory;
  }

  /** The bus, once started. */
  get bus(): ClusterBus {
    if (!this.#bus) throw new ConfabError('CLUSTER_UNAVAILABLE', 'the cluster node has not started yet');
    return this.#bus;
  }

  /** This node as the directory knows it. */
  get self(): Omit<NodeInfo, 'load'> {
    return this.directory.self;
  }

  /**
   * Listens for node links, registers the node and starts taking passed sockets (a worker). Rejects with
   * CLUSTER_UNAVAILABLE when Redis cannot be reached.
   */
  async start(address: NodeAddress): Promise<void> {
    this.#link = await listenNodeLink({
      host: address.host,
      port: this.#options.linkPort ?? 0,
      secret: this.#options.secret,
      node: this.id,
      tls: this.#host.tls,
      accept: (socket, rest, client) => this.#adoptLinked(socket, rest, client),
      refused: (reason, from) => this.#host.linkRefused(reason, from),
      http: (socket) => this.#host.http(socket),
    });
    const self: Omit<NodeInfo, 'load'> = {
      id: this.id,
      linkHost: this.#options.advertise ?? address.host,
      linkPort: this.#link.port,
      machine: this.#options.machine,
      startedAt: Date.now(),
      ...(address.udpPort !== undefined ? { udpPort: address.udpPort } : {}),
      ...(this.#options.worker !== undefined ? { worker: this.#options.worker } : {}),
    };
    ({ directory: this.#directory, bus: this.#bus } = this.#connect(self, this.#options));
    await this.#directory.start(() => this.#host.report());
    if (this.#options.worker !== undefined && process.send) {
      process.on('message', this.#onWorkerMessage);
      const ready: ReadyMessage = { confab: 'ready', node: this.id };
      process.send(ready);
    }
  }

  /** Stops taking connections from other nodes, ends the relays, leaves the directory. Idempotent. */
  async close(): Promise<void> {
    process.off('message', this.#onWorkerMessage);
    const link = this.#link;
    this.#link = undefined;
    this.#spares.close();
    for (const socket of this.#links) socket.destroy();
    await link?.close();
    await this.#directory?.close();
    await this.#bus?.close();
  }

  /**
   * Decides where a client goes once its HELLO is read. `handOff` gives the frames read so far (HELLO
   * first, encoded) and stops the server from reading more for itself; it is called only when the
   * connection leaves. Rejects with a ConfabError to refuse the client with (CLUSTER_UNAVAILABLE while the
   * directory cannot place a new room, ROOM_UNREACHABLE when the host node cannot be reached).
   */
  async route(connection: Connection, hello: ValidHello, relayed: boolean, handOff: () => Uint8Array[]): Promise<Route> {
    if (hello.resume !== undefined && this.#host.hasResumeToken(hello.resume)) return 'here';
    if (this.#host.hostsRoom(hello.room)) return 'here';
    if (relayed) {
      if (await this.directory.claim(hello.room)) return 'here';
      throw new ConfabError('ROOM_UNREACHABLE', `room "${hello.room}" moved to another node while you joined; join again`);
    }
    let target = await this.directory.locate(hello.room);
    if (target.id === this.self.id) {
      if (await this.directory.claim(hello.room)) return 'here';
      target = await this.directory.locate(hello.room);
      if (target.id === this.self.id) throw new ConfabError('CLUSTER_UNAVAILABLE', `room "${hello.room}" could not be placed; try again`);
    }
    if (this.#canPass(connection, target)) {
      const { socket, pending } = connection.detach();
      const bytes = Buffer.concat([...handOff(), pending]);
      const message: HandoverMessage = { confab: 'handover', to: target.worker!, node: target.id, bytes: bytes.toString('base64') };
      process.send!(message, socket);
      return 'moved';
    }
    const link = await this.#spares.take(target);
    sendLinkClient(link, { remoteAddress: connection.remoteAddress, transport: connection.transport });
    this.#links.add(link);
    link.once('close', () => this.#links.delete(link));
    relayOverLink(connection, link, handOff(), this.#host.maxPayload);
    return 'moved';
  }

  /** Gives up the lease of a room that was disposed here. */
  roomDisposed(room: string): void {
    this.#directory?.release(room).catch((error: unknown) => this.#host.log.warn('releasing a room lease failed', { room, error: String(error) }));
  }

  #canPass(connection: Connection, target: NodeInfo): connection is TcpConnection {
    return connection instanceof TcpConnection && connection.passable && process.send !== undefined
      && this.#options.worker !== undefined && target.worker !== undefined && target.machine === this.self.machine;
  }

  #adoptLinked(socket: Socket, rest: Buffer, client: LinkClient): void {
    this.#links.add(socket);
    socket.once('close', () => this.#links.delete(socket));
    this.#host.adopt(new TcpConnection(socket, { maxPayload: this.#host.maxPayload, firstChunk: rest, client }));
    socket.resume();
  }

  #takeHandover(message: unknown, handle: unknown): void {
    if (!isHandoverMessage(message)) return;
    const socket = handle as Socket | undefined;
    if (!socket) return;
    const bytes = Buffer.from(message.bytes, 'base64');
    this.#host.adopt(new TcpConnection(socket, { maxPayload: this.#host.maxPayload, firstChunk: bytes }));
    socket.resume();
  }
}

