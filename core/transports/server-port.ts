/**
 * The server's one TCP port: the one-port listener (core/transports/one-port.ts) with its connection limits,
 * the HTTP server behind it (health, metrics, the plugins' pages) and the WebSocket upgrade at /ws. It hands
 * every framed and WebSocket connection to the server's `accept`; it knows nothing of sessions.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import { WebSocketServer } from 'ws';
import { ConnectionLimiter } from '../limits.js';
import type { Connection, ResolvedServerOptions } from '../types.js';
import { createOnePortListener } from './one-port.js';
import { TcpConnection } from './tcp-connection.js';
import { WsConnection } from './ws-connection.js';

/** What the port needs of its server. */
export interface ServerPortHost {
  readonly options: ResolvedServerOptions;
  /** Takes a framed or WebSocket connection through HELLO. */
  accept(connection: Connection): void;
  /** Answers one HTTP request. */
  handleHttp(request: IncomingMessage, response: ServerResponse): Promise<void>;
  /** A connection was refused because its address (or the server) has too many. */
  limited(): void;
  /** An HTTP handler failed (the request got a 500). */
  httpFailed(error: unknown): void;
}

/** How long closing waits for connections to finish before it destroys them. */
const CLOSE_GRACE_MS = 1000;

/** The one TCP port of a server. */
export class ServerPort {
  readonly #http: HttpServer;
  readonly #wss: WebSocketServer;
  readonly #tcp: NetServer;
  readonly #sockets = new Set<Socket>();
  readonly #limits: ConnectionLimiter;

  constructor(host: ServerPortHost, tls: SecureContext | undefined) {
    const { options } = host;
    this.#limits = new ConnectionLimiter(options.maxConnections, options.maxConnectionsPerAddress);
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload + 5, perMessageDeflate: false });
    // A client that dribbles its HTTP headers (slowloris) is cut off like a framed client without HELLO.
    const { helloTimeoutMs } = options;
    this.#http = createHttpServer({ headersTimeout: helloTimeoutMs, connectionsCheckingInterval: Math.min(1000, helloTimeoutMs) }, (request, response) => {
      host.handleHttp(request, response).catch((error: unknown) => {
        host.httpFailed(error);
        if (!response.headersSent) response.writeHead(500).end();
      });
    });
    // The one-port listener hands the HTTP server its sockets, so it never listens itself: start Node's
    // connection tracking by hand, which is what enforces headersTimeout (and requestTimeout) on those sockets.
    this.#http.emit('listening');
    this.#http.on('upgrade', (request, socket, head) => {
      if (new URL(request.url ?? '/', 'http://x').pathname !== '/ws') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
      this.#wss.handleUpgrade(request, socket, head, (ws) => host.accept(new WsConnection(ws, socket as Socket)));
    });
    this.#tcp = createOnePortListener({
      framed: (socket, firstChunk) => host.accept(new TcpConnection(socket, { maxPayload: options.maxPayload, firstChunk })),
      http: (socket) => this.serveHttp(socket),
    }, helloTimeoutMs, tls);
    this.#tcp.on('connection', (socket: Socket) => {
      const address = socket.remoteAddress ?? '';
      if (!this.#limits.admit(address)) {
        host.limited();
        socket.destroy();
        return;
      }
      this.#sockets.add(socket);
      socket.on('close', () => {
        this.#sockets.delete(socket);
        this.#limits.release(address);
      });
    });
  }

  /** Listens on `port` of `host`; resolves with the address bound. */
  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#tcp.once('error', reject);
      this.#tcp.listen(port, host, () => {
        this.#tcp.off('error', reject);
        resolve(this.#tcp.address() as AddressInfo);
      });
    });
  }

  /** Serves HTTP (and WebSocket upgrades) on a socket that reached the server another way (a node's link port). */
  serveHttp(socket: Socket): void {
    this.#http.emit('connection', socket);
  }

  /** Stops listening, ends HTTP keep-alives, gives connections a moment to finish, then destroys the rest. */
  async close(): Promise<void> {
    this.#wss.close();
    const tcpClosed = this.#tcp.listening ? new Promise<void>((resolve) => this.#tcp.close(() => resolve())) : Promise.resolve();
    this.#http.closeAllConnections();
    this.#http.close();
    const deadline = Date.now() + CLOSE_GRACE_MS;
    while (this.#sockets.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    for (const socket of this.#sockets) socket.destroy();
    await tcpClosed;
  }
}
