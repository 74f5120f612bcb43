/**
 * The node-to-node link: how a node relays a client whose room another node hosts. The entry node dials the
 * host node's link port once per relayed client; both prove they know the cluster secret before a single
 * Confab frame crosses, then the connection carries the client's frames both ways (core/cluster/relay.ts).
 *
 * The handshake is three JSON lines, each a challenge answered with an HMAC-SHA256 of the secret, so the
 * secret never crosses and neither side can replay an old answer:
 *
 *   dialer   → {"link":1,"node":"A","nonce":nA}
 *   listener → {"node":"B","nonce":nB,"proof":HMAC("listener", nA, nB, "B")}
 *   dialer   → {"proof":HMAC("dialer", nA, nB, "A"),"client":{"remoteAddress":…,"transport":…}}
 *
 * A listener that receives a wrong proof (or garbage, or nothing within the time limit) answers
 * {"error":"NODE_LINK_REFUSED"} and closes. A connection to the link port that starts with an HTTP GET or
 * HEAD is this node's HTTP instead (its /health and /metrics, for a scraper). With TLS (the cluster's `tls`), the link is encrypted and the
 * proofs also bind the TLS session's exported keying material, so a man in the middle cannot forward them.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { connect as connectTcp, createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { connect as connectTls, TLSSocket, type SecureContext } from 'node:tls';
import { ConfabError } from '../errors.js';

/** The relayed client, as the entry node saw it: the host node's session takes these as its own. */
export interface LinkClient {
  readonly remoteAddress: string;
  readonly transport: string;
}

/** Options of `listenNodeLink`. */
export interface NodeLinkListenerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The cluster secret. */
  secret: string;
  /** This node's id. */
  node: string;
  /** With a TLS context, the link listens with TLS (and expects dialers to use it). */
  tls?: SecureContext;
  /** A dialer proved itself: its socket (paused), the bytes after the handshake, and the client it relays. */
  accept(socket: Socket, rest: Buffer, client: LinkClient, from: string): void;
  /** A dialer failed the handshake (counted and logged by the caller). */
  refused?(reason: string, remoteAddress: string): void;
  /**
   * Takes a connection that starts with an HTTP GET or HEAD: the link port also answers this node's
   * /health and /metrics, so each worker of `--workers` can be scraped on its own.
   */
  http?(socket: Socket): void;
}

/** Options of `dialNodeLink`. */
export interface NodeLinkDialOptions {
  host: string;
  port: number;
  secret: string;
  /** This node's id. */
  node: string;
  /** The node expected at the other end. */
  expect: string;
  client: LinkClient;
  /** Dial the link over TLS (the cluster uses TLS). */
  tls?: boolean;
  /** Default 5000. */
  timeoutMs?: number;
}

/** How long a handshake may take, and how long one of its lines may be. */
const HANDSHAKE_TIMEOUT_MS = 5000;
const MAX_LINE_BYTES = 2048;

/** Starts the link listener; resolves once it listens. */
export async function listenNodeLink(options: NodeLinkListenerOptions): Promise<Server> {
  const onSocket = (socket: Socket) => {
    socket.on('error', () => socket.destroy());
    // An HTTP request (GET or HEAD: a scrape of this node's /metrics or /health) goes to the node's HTTP server.
    const http = options.http;
    if (http) {
      socket.once('data', (chunk: Buffer) => {
        socket.pause();
        socket.unshift(chunk);
        if (chunk[0] === 0x47 || chunk[0] === 0x48) http(socket);
        else handshake(socket);
        socket.resume();
      });
    } else {
      handshake(socket);
    }
  };
  const handshake = (socket: Socket) => {
    answerHandshake(socket, options).catch((error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      options.refused?.(reason, socket.remoteAddress ?? '');
      if (!socket.destroyed) socket.end(`${JSON.stringify({ error: 'NODE_LINK_REFUSED' })}\n`);
      setTimeout(() => socket.destroy(), 500).unref();
    });
  };
  const tls = options.tls;
  const server = createTcpServer({ noDelay: true }, (socket) => {
    if (!tls) return onSocket(socket);
    socket.on('error', () => socket.destroy());
    const secure = new TLSSocket(socket, { isServer: true, secureContext: tls });
    secure.once('secure', () => onSocket(secure));
    secure.on('error', () => secure.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // exclusive: a worker of `--workers` has a link port of its own, not one shared through the primary.
    server.listen({ port: options.port, host: options.host, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/**
 * Dials another node's link and proves this node to it. Resolves with the connected socket, ready for the
 * client's frames; rejects with NODE_LINK_REFUSED when the other end is not a node of this cluster (or
 * refuses this one), and with ROOM_UNREACHABLE when it cannot be reached.
 */
export async function dialNodeLink(options: NodeLinkDialOptions): Promise<Socket> {
  const timeoutMs = options.timeoutMs ?? HANDSHAKE_TIMEOUT_MS;
  const socket: Socket = options.tls
    ? connectTls({ host: options.host, port: options.port, rejectUnauthorized: false })
    : connectTcp({ host: options.host, port: options.port, noDelay: true });
  const where = `${options.host}:${options.port}`;
  const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once(options.tls ? 'secureConnect' : 'connect', resolve);
      socket.once('error', reject);
    });
  } catch (error) {
    clearTimeout(timer);
    socket.destroy();
    throw new ConfabError('ROOM_UNREACHABLE', `node ${options.expect} at ${where} cannot be reached (${(error as Error).message}); try again`, { cause: error });
  }
  const lines = new LineReader(socket);
  try {
    const nonceA = randomBytes(16).toString('base64url');
    socket.write(`${JSON.stringify({ link: 1, node: options.node, nonce: nonceA })}\n`);
    const answer = parseLine(await lines.next());
    if (typeof answer.error === 'string') throw new Error(`it refused this node (${answer.error}); do both nodes have the same cluster secret?`);
    const binding = keyingMaterial(socket);
    if (answer.node !== options.expect || typeof answer.nonce !== 'string' || typeof answer.proof !== 'string'
      || !sameProof(answer.proof, proof(options.secret, 'listener', nonceA, answer.nonce, options.expect, binding))) {
      throw new Error(`the answer from ${where} does not prove node ${options.expect} with this cluster's secret`);
    }
    socket.write(`${JSON.stringify({ proof: proof(options.secret, 'dialer', nonceA, answer.nonce, options.node, binding), client: options.client })}\n`);
    const rest = lines.stop();
    if (rest.length > 0) socket.unshift(rest);
    return socket;
  } catch (error) {
    lines.stop();
    socket.destroy();
    throw new ConfabError('NODE_LINK_REFUSED', `the node link to ${where} failed: ${(error as Error).message}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** The listener's half of the handshake; rejects with a reason when the dialer does not prove itself. */
async function answerHandshake(socket: Socket, options: NodeLinkListenerOptions): Promise<void> {
  const lines = new LineReader(socket);
  const timer = setTimeout(() => lines.fail(new Error(`no handshake within ${HANDSHAKE_TIMEOUT_MS} ms`)), HANDSHAKE_TIMEOUT_MS);
  try {
    const hello = parseLine(await lines.next());
    if (hello.link !== 1 || typeof hello.node !== 'string' || typeof hello.nonce !== 'string') throw new Error('not a node link handshake');
    const nonceB = randomBytes(16).toString('base64url');
    const binding = keyingMaterial(socket);
    socket.write(`${JSON.stringify({ node: options.node, nonce: nonceB, proof: proof(options.secret, 'listener', hello.nonce, nonceB, options.node, binding) })}\n`);
    const answer = parseLine(await lines.next());
    if (typeof answer.proof !== 'string' || !sameProof(answer.proof, proof(options.secret, 'dialer', hello.nonce, nonceB, hello.node, binding))) {
      throw new Error(`node "${hello.node}" did not prove the cluster secret`);
    }
    const client = answer.client as Partial<LinkClient> | undefined;
    if (typeof client?.remoteAddress !== 'string' || typeof client.transport !== 'string') throw new Error('the handshake names no client');
    socket.pause();
    options.accept(socket, lines.stop(), { remoteAddress: client.remoteAddress, transport: client.transport }, hello.node);
  } finally {
    clearTimeout(timer);
    lines.stop();
  }
}

/** HMAC-SHA256 of the secret over who answers, both nonces, the node's id and the TLS binding. */
function proof(secret: string, role: 'dialer' | 'listener', nonceA: string, nonceB: string, node: string, binding: string): string {
  return createHmac('sha256', secret).update([role, nonceA, nonceB, node, binding].join('\n')).digest('base64url');
}

function sameProof(received: string, expected: string): boolean {
  const a = Buffer.from(received);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The TLS session's exported keying material (RFC 5705), or '' on plain TCP. */
function keyingMaterial(socket: Socket): string {
  return socket instanceof TLSSocket ? socket.exportKeyingMaterial(32, 'confab node link', Buffer.alloc(0)).toString('base64url') : '';
}

function parseLine(line: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(line);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Falls through to the error below.
  }
  throw new Error('the handshake line is not a JSON object');
}

/** Reads newline-terminated lines from a socket until stopped; what came after the last line is kept. */
class LineReader {
  #buffer = Buffer.alloc(0);
  #waiting: { resolve(line: string): void; reject(error: Error): void } | undefined;
  #failure: Error | undefined;
  #stopped = false;
  readonly #socket: Socket;
  readonly #onData = (chunk: Buffer) => {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    this.#deliver();
  };
  readonly #onClose = () => this.fail(new Error('the link closed during the handshake'));

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', this.#onData);
    socket.on('close', this.#onClose);
  }

  /** The next line, without its newline. */
  next(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#deliver();
    });
  }

  /** Fails the pending `next`. */
  fail(error: Error): void {
    this.#failure ??= error;
    this.#deliver();
  }

  /** Stops reading (the socket is paused) and returns the bytes read after the last line; later calls do nothing. */
  stop(): Buffer {
    if (this.#stopped) return Buffer.alloc(0);
    this.#stopped = true;
    this.#socket.pause();
    this.#socket.off('data', this.#onData);
    this.#socket.off('close', this.#onClose);
    const rest = this.#buffer;
    this.#buffer = Buffer.alloc(0);
    return rest;
  }

  #deliver(): void {
    const waiting = this.#waiting;
    if (!waiting) return;
    const end = this.#buffer.indexOf(0x0a);
    if (end >= 0) {
      this.#waiting = undefined;
      const line = this.#buffer.subarray(0, end).toString('utf8');
      this.#buffer = this.#buffer.subarray(end + 1);
      waiting.resolve(line);
    } else if (this.#buffer.length > MAX_LINE_BYTES) {
      this.#waiting = undefined;
      waiting.reject(new Error(`a handshake line is longer than ${MAX_LINE_BYTES} bytes`));
    } else if (this.#failure) {
      this.#waiting = undefined;
      waiting.reject(this.#failure);
    }
  }
}
