/**
 * The Confab server: one TCP port (HTTP, WebSocket at /ws, native framed TCP), UDP media on the same port
 * number, rooms of sessions, and plugins applied from one list.
 *
 * @example
 *   const server = await createServer({ server: { port: 5000 }, plugins: [chat()] });
 *   const { host, port } = await server.listen();
 *   // …
 *   await server.close();
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { ChannelRegistry } from './channels.js';
import { FrameDispatcher } from './dispatch.js';
import { resolveServerOptions, validatePlugins } from './config.js';
import { ConfabError, ERRORS, isConfabError } from './errors.js';
import { encodeFrame, encodeJsonFrame } from './frame.js';
import { parseHello } from './handshake.js';
import { createServerHooks, type ListenInfo, type ServerHooks } from './hooks.js';
import { allGrants, type Grant } from './grants.js';
import { handleHttpRequest } from './http.js';
import { PROBE_INTERVAL_MS } from './link-probe.js';
import { MEDIA_KEY_BYTES } from './media-crypto.js';
import { createLogger, type Logger } from './logger.js';
import { Metrics, type MediaDropReason } from './metrics.js';
import { createPluginContext } from './plugin-context.js';
import { FrameType, PROTOCOL_VERSION, QUIET_CLIENT_KIND, type Welcome } from './protocol.js';
import { Room } from './room.js';
import type { ServiceKey } from './services.js';
import { Session, type SessionHost } from './session.js';
import { randomToken, SessionRegistry } from './session-registry.js';
import { openStore, type Store } from './store.js';
import { loadServerTls, type ServerTls } from './tls.js';
import { ServerPort } from './transports/server-port.js';
import { UdpEndpoint } from './transports/udp.js';
import { CpuMeter } from './cluster/cpu.js';
import { ClusterNode } from './cluster/node.js';
import type { ConfabConfig, Connection, Plugin, ResolvedServerOptions, ValidHello } from './types.js';

/** How many free TCP ports `listen` tries, with port 0, before giving up on one whose UDP number is free too. */
const MAX_PORT_ATTEMPTS = 5;

/** Frames a client may send between HELLO and WELCOME; they are handled once it has joined. */
const MAX_FRAMES_DURING_HANDSHAKE = 64;


/**
 * Creates a server from a configuration: validates it, opens the store and runs every plugin's setup.
 * Nothing listens until `listen()`.
 */
export async function createServer(config: ConfabConfig = {}): Promise<ConfabServer> {
  const options = resolveServerOptions(config.server);
  const plugins = validatePlugins(config.plugins ?? []);
  const server = new ConfabServer(options, plugins);
  try {
    await server.setupPlugins();
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}

/** A running (or ready to run) Confab server. */
export class ConfabServer implements SessionHost {
  /** The server's hooks, for plugins (see core/hooks.ts). */
  readonly hooks: ServerHooks = createServerHooks();
  /** Options with every default filled in. */
  readonly options: ResolvedServerOptions;
  /** The plugins, in the order they were applied. */
  readonly plugins: readonly Plugin[];
  /** Every grant a session may hold here: the built-in ones and those the plugins declare; sessions start with all. */
  readonly grants: ReadonlySet<Grant>;
  /** Counters, gauges and histograms behind /metrics. */
  readonly metrics: Metrics;
  /** The server's logger. */
  readonly log: Logger;
  /** Rooms by name. */
  readonly rooms = new Map<string, Room>();
  /** Every channel and its type id. */
  readonly channels: ChannelRegistry;
  /** When the server was created (ms since epoch). */
  readonly startedAt = Date.now();
  #store: Store | undefined;
  readonly #sessions = new SessionRegistry();
  /** The one TCP port (HTTP, WebSocket, framed TCP), once listening. */
  #port: ServerPort | undefined;
  #udp: UdpEndpoint | undefined;
  #sweep: NodeJS.Timeout | undefined;
  #probes: NodeJS.Timeout | undefined;
  /** The services the plugins provided, by key name. */
  readonly #services = new Map<string, unknown>();
  #address: ListenInfo | undefined;
  #tls: ServerTls | undefined;
  #closing: Promise<void> | undefined;
  #dispatcher = new FrameDispatcher(this);
  /** True once every plugin's setup ran and the `listen` hook finished. */
  #started = false;
  /** This server's side of cluster mode, when the `cluster` option is set. */
  #cluster: ClusterNode | undefined;
  /** The CPU share the node reports to the cluster's directory. */
  readonly #cpu = new CpuMeter();

  constructor(options: ResolvedServerOptions, plugins: Plugin[]) {
    this.options = options;
    this.plugins = plugins;
    this.grants = new Set<Grant>([...allGrants(), ...plugins.flatMap((plugin) => plugin.grants ?? [])]);
    this.metrics = new Metrics({
      source: { sessions: () => this.#sessions.byId.values(), roomCount: () => this.rooms.size },
      perRoom: options.metricsPerRoom,
      errorCodes: [...Object.keys(ERRORS), ...plugins.flatMap((plugin) => plugin.errors?.specs.map((spec) => spec.code) ?? [])],
    });
    this.log = createLogger({ level: options.logLevel, scope: 'confab' });
    this.channels = new ChannelRegistry(plugins, options.maxPayload);
  }

  /** Sessions by id (active and detached). */
  get sessions(): ReadonlyMap<string, Session> {
    return this.#sessions.byId;
  }

  /** Where the server listens, once it does. */
  get address(): ListenInfo | undefined {
    return this.#address;
  }

  /** The TLS certificate served on the port (its fingerprint, its source), once listening with TLS on. */
  get tls(): ServerTls | undefined {
    return this.#tls;
  }

  /**
   * Whether the server can take sessions (`/health/ready`): it is listening, every plugin started (setup
   * and the `listen` hook), the store is open if a plugin opened it, and it is not closing.
   */
  get readiness(): Readiness {
    const store = this.#store === undefined ? 'unused' : this.#store.open ? 'open' : 'closed';
    const plugins = this.#started ? 'started' : 'starting';
    const ready = this.#started && store !== 'closed' && !this.#closing;
    return { ready, plugins, store, closing: this.#closing !== undefined };
  }

  /** The embedded store, opened on first use. */
  get store(): Store {
    this.#store ??= openStore({ dataDir: this.options.dataDir, url: this.options.store });
    return this.#store;
  }

  /**
   * A service a plugin provides (core/services.ts), for an application that embeds the server (or a test);
   * undefined when no plugin provides it.
   *
   * @example
   *   server.service(TOKENS)?.revoke(jti, { reason: 'leaked' });
   */
  service<T>(key: ServiceKey<T>): T | undefined {
    return this.#services.get(key.name) as T | undefined;
  }

  /** Runs every plugin's setup, in order. Called once by `createServer`. */
  async setupPlugins(): Promise<void> {
    const host = {
      hooks: this.hooks,
      options: this.options,
      log: this.log,
      metrics: this.metrics,
      channels: this.channels,
      storeFor: (name: string) => this.store.forPlugin(name),
      rooms: this.rooms,
      cluster: () => this.#cluster,
      accept: (connection: Connection) => this.accept(connection),
      plugins: this.plugins.map((plugin) => plugin.name),
      plugin: (name: string) => this.plugins.find((plugin) => plugin.name === name),
      services: this.#services,
      grants: this.grants,
    };
    for (const plugin of this.plugins) {
      try {
        await plugin.setup(createPluginContext(plugin, host));
      } catch (error) {
        if (isConfabError(error)) throw error;
        throw new ConfabError('PLUGIN_INVALID', `plugin "${plugin.name}" failed in setup: ${String(error)}`, { cause: error });
      }
      const missing = plugin.provides?.find((key) => !host.services.has(key.name));
      if (missing) throw new ConfabError('PLUGIN_INVALID', `plugin "${plugin.name}" declares it provides service "${missing.name}" but did not call ctx.provide for it in setup`);
    }
  }

  /** This server as a node of its cluster (its directory and bus), when the `cluster` option is set. */
  get cluster(): ClusterNode | undefined {
    return this.#cluster;
  }

  /** Listens on the TCP port (and UDP, unless disabled) and runs the `listen` hook. */
  async listen(): Promise<ListenInfo> {
    if (this.#address) return this.#address;
    const { host } = this.options;
    this.#tls = await loadServerTls(this.options);
    const bound = await this.#listenPorts();
    if (this.options.cluster) {
      // Loaded only in cluster mode: the embedded default never loads the Redis client.
      const { connectRedisCluster } = await import('./cluster/connect.js');
      this.#cluster = new ClusterNode(this.#clusterHost(), { ...this.options.cluster, machine: this.options.cluster.machine ?? this.options.name }, connectRedisCluster);
      await this.#cluster.start({ host, ...(this.#udp ? { udpPort: this.options.udpPort ?? bound.port } : {}) });
      // Each node's series carry its id: the workers of one machine are scraped on their link ports.
      this.metrics.registry.setDefaultLabels({ node: this.#cluster.id });
    }
    this.#sweep = setInterval(() => this.#sweepIdle(), Math.max(50, Math.floor(this.options.heartbeatMs / 2)));
    this.#probes = setInterval(() => this.#probeLinks(), PROBE_INTERVAL_MS);
    this.#address = { host, port: bound.port };
    await this.hooks.listen.promise(this.#address);
    this.#started = true;
    this.log.info('listening', { host, port: bound.port, plugins: this.plugins.map((p) => p.name) });
    if (this.#tls) {
      const { source, certPath, fingerprint, generated } = this.#tls;
      this.log.info(generated ? 'tls certificate generated' : 'tls on', { source, cert: certPath, sha256: fingerprint });
    }
    return this.#address;
  }

  /**
   * Binds the TCP port and the UDP port of the same number (or `udpPort`). With port 0, a free TCP port
   * whose number another program already uses for UDP is given up for another one, a few times.
   */
  async #listenPorts(): Promise<{ port: number }> {
    const { host, port, udp, udpPort } = this.options;
    for (let attempt = 1; ; attempt++) {
      this.#port = new ServerPort({
        options: this.options,
        accept: (connection) => this.accept(connection),
        handleHttp: (request, response) => handleHttpRequest(this, request, response),
        limited: () => this.metrics.add(this.metrics.errors, 'CONNECTION_LIMIT'),
        httpFailed: (error) => this.log.error('http handler failed', { error: String(error) }),
      }, this.#tls?.context);
      const bound = await this.#port.listen(port, host);
      if (!udp) return bound;
      this.#udp = new UdpEndpoint(host, {
        sessionByMediaToken: (token) => this.#sessions.activeByMediaToken(token),
        frame: (session, type, payload) => this.#dispatcher.udpFrame(session, type, payload),
        ignored: (reason) => {
          this.metrics.add(this.metrics.framesIn, 'udp_ignored');
          this.metrics.add(this.metrics.mediaRefused, `udp-${reason}`);
        },
      });
      try {
        await this.#udp.listen(host, udpPort ?? bound.port);
        return bound;
      } catch (error) {
        const taken = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
        if (!taken || port !== 0 || udpPort !== undefined || attempt >= MAX_PORT_ATTEMPTS) throw error;
        await this.#udp.close();
        await this.#port.close();
      }
    }
  }

  /**
   * Takes a new transport connection through HELLO to a session. Transports call this; a plugin that adds a
   * transport builds a Connection and calls it too. In cluster mode a connection whose room another node
   * hosts is sent there, unless it is `relayed` (it came from another node or worker).
   */
  accept(connection: Connection, { relayed = false }: { relayed?: boolean } = {}): void {
    this.metrics.add(this.metrics.connections, connection.transport);
    if (this.#closing) {
      this.#refuse(connection, new ConfabError('SERVER_CLOSING'));
      return;
    }
    this.hooks.connection.call(connection);
    let session: Session | undefined;
    const closed = new AbortController();
    let queued: Array<[number, Uint8Array]> | undefined;
    const helloTimer = setTimeout(() => this.#refuse(connection, new ConfabError('HELLO_TIMEOUT',
      `no HELLO within ${this.options.helloTimeoutMs} ms`)), this.options.helloTimeoutMs);
    helloTimer.unref();

    connection.listen({
      frame: (type, payload) => {
        if (session) {
          if (session.connection === connection) this.#dispatcher.frame(session, type, payload);
          return;
        }
        if (queued) {
          if (queued.length >= MAX_FRAMES_DURING_HANDSHAKE) return this.#refuse(connection, new ConfabError('HELLO_REQUIRED', 'wait for WELCOME before sending more frames'));
          queued.push([type, Uint8Array.from(payload)]);
          return;
        }
        clearTimeout(helloTimer);
        if (type !== FrameType.HELLO) {
          return this.#refuse(connection, new ConfabError('HELLO_REQUIRED', `the first frame has type 0x${type.toString(16).padStart(2, '0')}; it must be HELLO (0x01)`));
        }
        queued = [];
        const helloAt = performance.now();
        const handOff = () => {
          const frames = [encodeFrame(FrameType.HELLO, payload), ...(queued ?? []).map(([t, p]) => encodeFrame(t, p))];
          queued = undefined;
          return frames;
        };
        this.#admit(connection, payload, closed.signal, helloAt, relayed, handOff).then((joined) => {
          session = joined;
          const frames = queued ?? [];
          queued = undefined;
          if (joined) for (const [t, p] of frames) if (joined.connection === connection) this.#dispatcher.frame(joined, t, p);
        }, (error: unknown) => {
          this.log.error('handshake failed', { error: String(error) });
          this.#refuse(connection, new ConfabError('HANDSHAKE_REFUSED', 'the server failed during the handshake'));
        });
      },
      protocolError: (error) => {
        if (session && session.connection === connection) {
          if (error.fatal) this.fail(session, error);
          else this.sendError(session, error);
        } else if (!session) {
          this.#refuse(connection, error);
        }
      },
      drain: () => {
        if (session && session.connection === connection) session.flushHeldMedia();
      },
      close: () => {
        closed.abort();
        clearTimeout(helloTimer);
        if (session && session.connection === connection) this.#onConnectionLost(session);
      },
    });
  }

  /** Ends a session with a fatal error: ERROR to it, PEER_LEFT to its room. */
  fail(session: Session, error: ConfabError): void {
    this.metrics.add(this.metrics.errors, error.code);
    session.sendUncounted(encodeJsonFrame(FrameType.ERROR, { ...error.toPayload(), fatal: true }));
    this.endSession(session, 'error');
  }

  /** Sends a non-fatal ERROR to a session, and counts it. */
  sendError(session: Session, error: ConfabError): void {
    this.metrics.add(this.metrics.errors, error.code);
    session.sendError(error);
  }

  /** Sends a datagram to a session's bound UDP address. */
  sendUdp(frame: Uint8Array, to: { address: string; port: number }): void {
    this.#udp?.send(frame, to);
  }

  /** Counts a media frame not written to a receiver, by why. */
  countDrop(reason: MediaDropReason): void {
    this.metrics.add(this.metrics.mediaDrops, reason);
  }

  /**
   * Removes a session for good: out of its room (PEER_LEFT to the others, `sessionLeft`), its connection
   * closed, and the room disposed if it was the last member. Idempotent.
   */
  endSession(session: Session, reason: string): void {
    if (!this.#sessions.remove(session)) return;
    const room = session.room;
    session.stopGrace();
    this.#udp?.unbind(session);
    room.remove(session);
    session.closeConnection();
    if (!this.#closing && session.clientKind !== QUIET_CLIENT_KIND) room.sendCore(FrameType.PEER_LEFT, { ...session.info, reason });
    this.hooks.sessionLeft.call(session, room, reason);
    if (room.size === 0 && this.rooms.get(room.name) === room) {
      this.rooms.delete(room.name);
      this.hooks.roomDisposed.call(room);
      this.#cluster?.roomDisposed(room.name);
    }
  }

  /**
   * Closes the server: BYE to every session, listeners closed, the `close` hook run, the store closed.
   * Idempotent; resolves when nothing is left listening.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#sweep);
    clearInterval(this.#probes);
    const bye = encodeJsonFrame(FrameType.BYE, { reason: 'server closing' });
    for (const session of [...this.#sessions.byId.values()]) {
      session.sendUncounted(bye);
      this.endSession(session, 'shutdown');
    }
    await this.#port?.close();
    await this.#udp?.close();
    await this.#cluster?.close();
    await this.hooks.close.promise();
    await this.#store?.close();
    if (this.#address) this.log.info('closed');
  }

  /**
   * In cluster mode, sends the connection to its room's node when that is not this one (core/cluster/node.ts);
   * then HELLO to WELCOME here.
   */
  async #admit(connection: Connection, payload: Uint8Array, signal: AbortSignal, helloAt: number, relayed: boolean,
    handOff: () => Uint8Array[]): Promise<Session | undefined> {
    const hello = this.#cluster ? parseHello(payload) : undefined;
    if (this.#cluster && hello && !(hello instanceof ConfabError)) {
      const route = await this.#cluster.route(connection, hello, relayed, handOff).catch((error: unknown) => {
        if (isConfabError(error)) return error;
        throw error;
      });
      if (route instanceof ConfabError) return this.#refuse(connection, route);
      if (route === 'moved' || signal.aborted) return undefined;
    }
    return this.#handshake(connection, payload, signal, helloAt);
  }

  /** What the cluster node needs of this server. */
  #clusterHost() {
    return {
      log: this.log,
      maxPayload: this.options.maxPayload,
      tls: this.#tls?.context,
      hostsRoom: (room: string) => this.rooms.has(room),
      hasResumeToken: (token: string) => this.#sessions.byResumeToken(token) !== undefined,
      report: () => ({
        load: { sessions: this.#sessions.size, rooms: this.rooms.size, cpu: this.#cpu.sample() },
        rooms: [...this.rooms.values()].map((room) => ({ name: room.name, participants: room.peers().length })),
      }),
      adopt: (connection: Connection) => this.accept(connection, { relayed: true }),
      http: (socket: Socket) => this.#port?.serveHttp(socket),
      linkRefused: (reason: string, remoteAddress: string) => {
        this.metrics.add(this.metrics.errors, 'NODE_LINK_REFUSED');
        this.log.warn('node link refused', { from: remoteAddress, reason });
      },
    };
  }

  /** HELLO to WELCOME. `signal` is aborted when the connection closes during the async handshake taps. */
  async #handshake(connection: Connection, payload: Uint8Array, signal: AbortSignal, helloAt: number): Promise<Session | undefined> {
    const hello = parseHello(payload);
    if (hello instanceof ConfabError) return this.#refuse(connection, hello);
    if (hello.resume !== undefined) return this.#resume(connection, hello, helloAt);
    const info = { transport: connection.transport, remoteAddress: connection.remoteAddress, grants: new Set(this.grants), connection, signal };
    const refusal = await this.hooks.handshake.promise(hello, info);
    if (refusal) return this.#refuse(connection, refusal);
    if (this.#closing) return this.#refuse(connection, new ConfabError('SERVER_CLOSING'));
    if (signal.aborted) return undefined;
    let room = this.rooms.get(hello.room);
    if (!room) {
      room = new Room(hello.room);
      this.rooms.set(room.name, room);
      this.hooks.roomCreated.call(room);
    }
    const session = new Session({
      id: randomToken(9),
      name: room.uniqueName(hello.name),
      room,
      mediaToken: randomToken(18),
      mediaKey: randomBytes(MEDIA_KEY_BYTES),
      grants: info.grants,
      resumeToken: randomToken(24),
      clientKind: hello.client,
      connection,
      host: this,
    });
    room.add(session);
    this.#sessions.add(session);
    session.sendUncounted(encodeJsonFrame(FrameType.WELCOME, this.#welcome(session, false)));
    this.metrics.observeJoin('join', helloAt);
    if (session.clientKind !== QUIET_CLIENT_KIND) room.sendCore(FrameType.PEER_JOINED, session.info, session);
    this.log.debug('joined', { session: session.id, name: session.name, room: room.name, transport: connection.transport });
    this.hooks.sessionJoined.call(session, room);
    return session;
  }

  #resume(connection: Connection, hello: ValidHello, helloAt: number): Session | undefined {
    const session = this.#sessions.byResumeToken(hello.resume!);
    if (!session) return this.#refuse(connection, new ConfabError('RESUME_FAILED', 'no session has this resume token (it expired or was already used)'));
    const received = hello.received ?? 0;
    const replay = session.framesToReplay(received);
    if (!replay) {
      this.#refuse(connection, new ConfabError('RESUME_FAILED', received > session.reliableSent
        ? `HELLO says ${received} frames were received, but only ${session.reliableSent} were sent; join again`
        : `the frames after number ${received} (of ${session.reliableSent}) are no longer kept; join again`));
      this.endSession(session, 'disconnected');
      return undefined;
    }
    const previous = session.connection;
    this.#sessions.renewResumeToken(session);
    session.stopGrace();
    this.#udp?.unbind(session);
    session.attach(connection);
    previous?.close();
    session.sendUncounted(encodeJsonFrame(FrameType.WELCOME, this.#welcome(session, true)));
    this.metrics.observeJoin('resume', helloAt);
    for (const frame of replay) session.sendUncounted(frame);
    this.log.debug('resumed', { session: session.id, replayed: replay.length });
    this.hooks.sessionResumed.call(session, session.room);
    return session;
  }

  #welcome(session: Session, resumed: boolean): Welcome {
    return {
      v: PROTOCOL_VERSION,
      session: session.id,
      name: session.name,
      room: session.room.name,
      channels: this.channels.ids(),
      channelKinds: this.channels.kinds(),
      plugins: this.plugins.map((plugin) => plugin.name),
      peers: session.room.peers(session),
      mediaToken: session.mediaToken,
      mediaKey: Buffer.from(session.mediaKey).toString('base64'),
      resume: session.resumeToken,
      heartbeatMs: this.options.heartbeatMs,
      resumed,
      ...this.#udpWelcome(),
    };
  }

  /** WELCOME's `udpPort` and `udpHost`, when media goes elsewhere than the dialed port (a cluster node). */
  #udpWelcome(): Pick<Welcome, 'udpPort' | 'udpHost'> {
    if (!this.#udp || (!this.#cluster && this.options.udpPort === undefined)) return {};
    const udpPort = this.options.udpPort ?? this.#address!.port;
    // A client relayed from another node dialed that node: its media goes to this one's address.
    const { host } = this.options;
    const udpHost = this.options.cluster?.advertise ?? (this.#cluster && !isWildcard(host) ? host : undefined);
    return { udpPort, ...(udpHost !== undefined ? { udpHost } : {}) };
  }

  /** Sends a fatal ERROR to a connection that has no session, and closes it. */
  #refuse(connection: Connection, error: ConfabError): undefined {
    this.metrics.add(this.metrics.errors, error.code);
    connection.write(encodeJsonFrame(FrameType.ERROR, { ...error.toPayload(), fatal: true }));
    connection.close();
    return undefined;
  }

  #onConnectionLost(session: Session): void {
    if (this.#closing || session.state !== 'active') return;
    this.#udp?.unbind(session);
    session.detach();
    this.hooks.sessionDetached.call(session, session.room);
    session.startGrace(this.options.resumeGraceMs);
  }

  /** Sends a link probe (a PING) to each session that is being sent data (core/link-probe.ts). */
  #probeLinks(): void {
    const now = performance.now();
    for (const session of this.#sessions.byId.values()) {
      if (session.state !== 'active') continue;
      const payload = session.link.probe(now, session.bytesWritten);
      if (payload) session.sendUncounted(encodeFrame(FrameType.PING, payload));
    }
  }

  #sweepIdle(): void {
    const now = Date.now();
    for (const session of this.#sessions.byId.values()) {
      if (session.state !== 'active' || now - session.lastSeen <= this.options.idleTimeoutMs) continue;
      const error = new ConfabError('IDLE_TIMEOUT', `nothing arrived for ${now - session.lastSeen} ms; the limit is ${this.options.idleTimeoutMs} ms`);
      // Counted and kept like any non-fatal ERROR: a client that resumes is told (again) why it was cut.
      this.sendError(session, error);
      session.lostReason = 'timeout';
      const connection = session.connection!;
      this.#onConnectionLost(session);
      connection.close();
    }
  }
}

/** What `/health/ready` reports (see `ConfabServer.readiness`). */
export interface Readiness {
  /** True when the server can take sessions. */
  ready: boolean;
  /** `started` once every plugin's setup ran and the `listen` hook finished. */
  plugins: 'starting' | 'started';
  /** The embedded store: `open`, `closed`, or `unused` when no plugin opened it. */
  store: 'open' | 'closed' | 'unused';
  /** True once `close()` was called. */
  closing: boolean;
}

/** True for an address that binds every interface (0.0.0.0, ::), which no client can send to. */
function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}
