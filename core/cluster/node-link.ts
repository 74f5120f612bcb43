/**
 * The node-to-node link: how a node relays a client whose room another node hosts. Each relayed client has a
 * link connection of its own to the host node's link port; both nodes prove they know the cluster secret
 * before a single Confab frame crosses, then the connection carries the client's frames both ways
 * (core/cluster/relay.ts).
 *
 * The handshake is three JSON lines, each a challenge answered with an HMAC-SHA256 of the secret, so the
 * secret never crosses and neither side can replay an old answer; a fourth line names the client:
 *
 *   dialer   → {"link":1,"node":"A","nonce":nA}
 *   listener → {"node":"B","nonce":nB,"proof":HMAC("listener", nA, nB, "B")}
 *   dialer   → {"proof":HMAC("dialer", nA, nB, "A")}
 *   dialer   → {"client":{"remoteAddress":…,"transport":…}}          (then the client's frames)
 *
 * The dialer may send the client line later: a link proven in advance waits for its client as a spare
 * (core/cluster/link-pool.ts), so a relayed join does not wait for a TCP connect and two round trips. A spare
 * waits at most SPARE_WAIT_MS for its client line, then the listener closes it.
 *
 * A listener that receives a wrong proof (or garbage, or nothing within the time limit) answers
 * {"error":"NODE_LINK_REFUSED"} and closes. A connection to the link port that starts with an HTTP GET or
 * HEAD is this node's HTTP instead (its /health and /metrics, for a scraper). With TLS (the cluster's `tls`), the link is encrypted and the
 * proofs also bind the TLS session's exported keying material, so a man in the middle cannot forward them.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { connect as connectTcp, createServer as createTcpServer, type Socket } from 'node:net';
import { connect as connectTls, TLSSocket, type SecureContext } from 'node:tls';
import { ConfabError } from '../errors.js';

/** The relayed client, as the entry node saw it: the host node's session takes these as its own. */
export interface LinkClient {
  readonly remoteAddress: string;
  readonly transport: string;
}

/** A listening node link: its port, and `close`, which also ends the links still in their handshake. */
export interface NodeLinkListener {
  readonly port: number;
  /** Stops listening and destroys every connection not yet handed to `accept`. */
  close(): Promise<void>;
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
  /** How long a proven link may wait for its client line. Default SPARE_WAIT_MS. */
  spareWaitMs?: number;
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
  /** Dial the link over TLS (the cluster uses TLS). */
  tls?: boolean;
  /** Default 5000. */
  timeoutMs?: number;
}

/** How long a handshake may take, and how long one of its lines may be. */
const HANDSHAKE_TIMEOUT_MS = 5000;
const MAX_LINE_BYTES = 2048;

/** How long a proven link waits for its client line (a spare) before the listener closes it. */
export const SPARE_WAIT_MS = 60_000;

/** Starts the link listener; resolves once it listens. */
export async function listenNodeLink(options: NodeLinkListenerOptions): Promise<NodeLinkListener> {
  /** Connections not yet handed to `accept` or `http`: `close` destroys them. */
  const waiting = new Set<Socket>();
  const onSocket = (socket: Socket) => {
    socket.on('error', () => socket.destroy());
    // An HTTP request (GET or HEAD: a scrape of this node's /metrics or /health) goes to the node's HTTP server.
    const http = options.http;
    if (http) {
      socket.once('data', (chunk: Buffer) => {
        socket.pause();
        socket.unshift(chunk);
        if (chunk[0] === 0x47 || chunk[0] === 0x48) {
          waiting.delete(socket);
          http(socket);
        } else {
          handshake(socket);
        }
        socket.resume();
      });
    } else {
      handshake(socket);
    }
  };
  const handshake = (socket: Socket) => {
    answerHandshake(socket, options).then((outcome) => {
      waiting.delete(socket);
      if (outcome === 'unused') socket.destroy();
    }, (error: unknown) => {
      waiting.delete(socket);
      const reason = error instanceof Error ? error.message : String(error);
      options.refused?.(reason, socket.remoteAddress ?? '');
      if (!socket.destroyed) socket.end(`${JSON.stringify({ error: 'NODE_LINK_REFUSED' })}\n`);
      setTimeout(() => socket.destroy(), 500).unref();
    });
  };
  const tls = options.tls;
  const server = createTcpServer({ noDelay: true }, (socket) => {
    waiting.add(socket);
    socket.once('close', () => waiting.delete(socket));
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
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of waiting) socket.destroy();
    }),
  };
}

/**
 * Dials another node's link and proves this node to it. Resolves with the connected socket (paused), ready
 * for `sendLinkClient` and then the client's frames; rejects with NODE_LINK_REFUSED when the other end is
 * not a node of this cluster (or refuses this one), and with ROOM_UNREACHABLE when it cannot be reached.
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
    socket.write(`${JSON.stringify({ proof: proof(options.secret, 'dialer', nonceA, answer.nonce, options.node, binding) })}\n`);
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

/** Names the client a proven link relays (the fourth line); its frames follow. */
export function sendLinkClient(link: Socket, client: LinkClient): void {
  link.write(`${JSON.stringify({ client })}\n`);
}

/**
 * The listener's half of the handshake: 'accepted' once the link is handed to `accept`, 'unused' when a proven
 * link closed or waited `spareWaitMs` without naming a client. Rejects with a reason when the dialer does not
 * prove itself or sends something else than a client line.
 */
async function answerHandshake(socket: Socket, options: NodeLinkListenerOptions): Promise<'accepted' | 'unused'> {
  const lines = new LineReader(socket);
  let timer = setTimeout(() => lines.fail(new Error(`no handshake within ${HANDSHAKE_TIMEOUT_MS} ms`)), HANDSHAKE_TIMEOUT_MS);
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
    // Proven: from here on the link may wait as a spare for its client line.
    clearTimeout(timer);
    let unused = false;
    timer = setTimeout(() => {
      unused = true;
      lines.fail(new Error('the spare link was not used'));
    }, options.spareWaitMs ?? SPARE_WAIT_MS);
    let line: string;
    try {
      line = await lines.next();
    } catch (error) {
      if (unused || lines.closed) return 'unused';
      throw error;
    }
    const client = parseLine(line).client as Partial<LinkClient> | undefined;
    if (typeof client?.remoteAddress !== 'string' || typeof client.transport !== 'string') throw new Error('the handshake names no client');
    socket.pause();
    options.accept(socket, lines.stop(), { remoteAddress: client.remoteAddress, transport: client.transport }, hello.node);
    return 'accepted';
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
  #closed = false;
  readonly #socket: Socket;
  readonly #onData = (chunk: Buffer) => {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    this.#deliver();
  };
  readonly #onClose = () => {
    this.#closed = true;
    this.fail(new Error('the link closed during the handshake'));
  };

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', this.#onData);
    socket.on('close', this.#onClose);
  }

  /** True once the socket closed while this reader was reading. */
  get closed(): boolean {
    return this.#closed;
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
