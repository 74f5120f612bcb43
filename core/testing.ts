/**
 * The test harness for plugins: a real server on an ephemeral loopback port with a temporary data directory,
 * real clients (`ConfabClient` with client halves) over TCP or WebSocket, waits with timeouts that fail with
 * a message saying what was awaited and what arrived instead, and one `close()` that ends it all.
 *
 * @example
 *   import { startTestServer } from '../core/testing.js';
 *   const lab = await startTestServer({ plugins: [chat()] });
 *   try {
 *     const alice = await lab.connect('alice', { plugins: { chat: chatClient() } });
 *     const bob = await lab.connect('bob');
 *     await alice.chat.send('hi');
 *     await bob.waitForMessage('chat', { op: 'message', text: 'hi' });
 *   } finally {
 *     await lab.close(); // every client, the server, the temporary directory
 *   }
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect, isDeepStrictEqual } from 'node:util';
import { ConfabClient } from './client/node.js';
import type { ClientEvents, ClientOptions, ClientPlugin } from './client/types.js';
import type { ConfabError } from './errors.js';
import { createServer, type ConfabServer } from './server.js';
import type { Session } from './session.js';
import type { Plugin, ServerOptions } from './types.js';

/** How long a wait lasts before it fails, unless told otherwise. */
export const DEFAULT_WAIT_MS = 3000;

/** Options of `startTestServer`. */
export interface TestServerOptions {
  /** The plugins to run, as in `plugins.config.ts`. */
  plugins?: Plugin[];
  /** Server options; host is 127.0.0.1, port 0 (a free one) and logLevel `silent` unless given here. */
  server?: ServerOptions;
}

/** Options of `testServer.connect()`. */
export interface TestConnectOptions<Plugins extends Record<string, ClientPlugin<unknown>>> {
  /** The room to join. Default `default`. */
  room?: string;
  /** `tcp` (default) or `ws`. */
  transport?: 'tcp' | 'ws';
  /** Client halves to attach before connecting, by the name their API gets on the test client. */
  plugins?: Plugins;
  /** Any other client option (token, reconnect, backoff…). */
  client?: Partial<ClientOptions>;
}

/**
 * A message as a test reads it: a json channel's object with its fields loosely typed, so a test can write
 * `m.poll.id` without casts; on binary and media channels it is a Uint8Array (cast it).
 */
export type ReceivedMessage = Record<string, any>;

/** What to wait for: a predicate, or an object whose fields the message must have (deeply equal). */
export type MessageMatch = ((message: ReceivedMessage) => boolean) | Record<string, unknown>;

/** Names a test client has of its own; a client half cannot be attached under one of them. */
const RESERVED = ['client', 'name', 'id', 'messages', 'errors', 'waitForMessage', 'waitForEvent', 'waitForError', 'close'];

/** A connected client of a test server, with what it received recorded for `waitFor…`. */
export interface TestClientBase {
  /** The real client. */
  readonly client: ConfabClient;
  /** The name the server gave (maybe `alice_1`). */
  readonly name: string;
  /** The session id. */
  readonly id: string;
  /** Every message received on `channel` so far, oldest first. */
  messages(channel: string): ReceivedMessage[];
  /** Every non-fatal error the server reported to this client so far. */
  readonly errors: ConfabError[];
  /**
   * Reads the channel on from where the last `waitForMessage` on it stopped (the start, the first time) and
   * resolves with the first message that matches, received already or later; the messages before it are
   * passed over. So two waits for `{ op: 'vote' }` return two different messages, in order, and a wait never
   * returns a stale message from before the one the previous wait returned. Rejects after `timeoutMs` saying
   * what it waited for and what arrived.
   */
  waitForMessage(channel: string, match?: MessageMatch, timeoutMs?: number): Promise<ReceivedMessage>;
  /** Resolves with the arguments of the next client event `event` (after this call) whose first argument matches. */
  waitForEvent<K extends keyof ClientEvents>(event: K, match?: (...args: ClientEvents[K]) => boolean, timeoutMs?: number): Promise<ClientEvents[K]>;
  /** Resolves with the first error with this code the server reported (so far or later) not returned before. */
  waitForError(code: string, timeoutMs?: number): Promise<ConfabError>;
  /** Leaves (BYE) and waits for the transport to close. */
  close(): Promise<void>;
}

/** A test client with the APIs of its client halves under the names given in `plugins`. */
export type TestClient<Plugins extends Record<string, ClientPlugin<unknown>> = Record<never, never>> = TestClientBase & {
  readonly [K in keyof Plugins]: Plugins[K] extends ClientPlugin<infer Api> ? Api : never;
};

/** A running test server. */
export interface TestServer {
  readonly server: ConfabServer;
  readonly host: string;
  readonly port: number;
  /** `tcp://127.0.0.1:<port>`. */
  readonly url: string;
  /** `ws://127.0.0.1:<port>/ws`. */
  readonly wsUrl: string;
  /** The server's data directory (temporary unless `server.dataDir` was given). */
  readonly dataDir: string;
  /** Connects a client, attaches the given client halves, and resolves once it has joined. */
  connect<Plugins extends Record<string, ClientPlugin<unknown>> = Record<never, never>>(
    name: string,
    options?: TestConnectOptions<Plugins>,
  ): Promise<TestClient<Plugins>>;
  /** The server's Session of a test client (to change its grants, look at its room…); throws if it has none. */
  session(client: TestClientBase): Session;
  /** Waits until `condition()` is true (checked every 10 ms); rejects after `timeoutMs` naming `what`. */
  waitFor(condition: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  /**
   * Closes every client it connected, then the server, then removes the data directory (unless `keepData`,
   * for a restart on the same directory). Idempotent.
   */
  close(options?: { keepData?: boolean }): Promise<void>;
}

/**
 * The store of a test server that names none: undefined (SQLite in its data directory) unless
 * `CONFAB_TEST_STORE=postgres`, then the data directory's database (fresh the first time) on the test run's
 * private PostgreSQL (test/helpers/postgres.ts, loaded only then).
 */
async function testStoreUrl(dataDir: string): Promise<string | undefined> {
  if (process.env.CONFAB_TEST_STORE !== 'postgres') return undefined;
  const helper = new URL('../test/helpers/postgres.js', import.meta.url).href;
  const { testStoreUrl: forDataDir } = (await import(helper)) as { testStoreUrl(dataDir: string): Promise<string | undefined> };
  return forDataDir(dataDir);
}

/**
 * Starts a server with the given plugins on 127.0.0.1 and a free port, with a temporary data directory
 * (and the store there, unless `CONFAB_TEST_STORE=postgres`: see testStoreUrl).
 *
 * @example
 *   const lab = await startTestServer({ plugins: [polls()], server: { heartbeatMs: 500 } });
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const given = options.server ?? {};
  const dataDir = given.dataDir ?? mkdtempSync(join(tmpdir(), 'confab-test-'));
  const removeData = () => rmSync(dataDir, { recursive: true, force: true });
  let server: ConfabServer;
  try {
    // Never the CONFAB_STORE_URL of the shell that runs the tests: SQLite in the data directory, or the test PostgreSQL.
    const store = given.store ?? await testStoreUrl(dataDir) ?? join(dataDir, 'confab.db');
    server = await createServer({
      server: { host: '127.0.0.1', port: 0, logLevel: 'silent', ...given, dataDir, store },
      plugins: options.plugins ?? [],
    });
  } catch (error) {
    if (given.dataDir === undefined) removeData();
    throw error;
  }
  const { host, port } = await server.listen();
  const url = `tcp://${host}:${port}`;
  const wsUrl = `ws://${host}:${port}/ws`;
  const clients = new Set<ConfabClient>();
  let closing: Promise<void> | undefined;

  return {
    server,
    host,
    port,
    url,
    wsUrl,
    dataDir,
    async connect(name, connectOptions = {}) {
      const client = new ConfabClient({
        url: connectOptions.transport === 'ws' ? wsUrl : url,
        name,
        room: connectOptions.room,
        backoff: { initialMs: 20, maxMs: 200 },
        ...connectOptions.client,
      });
      clients.add(client);
      const apis: Record<string, unknown> = {};
      for (const [key, plugin] of Object.entries(connectOptions.plugins ?? {})) {
        if (RESERVED.includes(key)) throw new Error(`a client half cannot be named "${key}" in connect(): a test client has its own ${key}`);
        apis[key] = client.use(plugin);
      }
      const recorder = recordClient(client);
      await client.connect();
      return Object.assign(recorder, apis) as TestClient<NonNullable<typeof connectOptions.plugins>>;
    },
    session(client) {
      const session = server.sessions.get(client.id);
      if (!session) throw new Error(`the server has no session for ${client.name} (${client.id}); did it leave?`);
      return session;
    },
    waitFor: (condition, what, timeoutMs) => waitFor(condition, what, timeoutMs),
    close({ keepData = false } = {}) {
      closing ??= (async () => {
        await Promise.all([...clients].map((client) => client.close()));
        await server.close();
        if (!keepData) removeData();
      })();
      return closing;
    },
  };
}

/** Attaches a recorder of every channel's messages and every server error, and builds the test client. */
function recordClient(client: ConfabClient): TestClientBase {
  const received = new Map<string, ReceivedMessage[]>();
  /** Per channel, the index where the next `waitForMessage` starts reading. */
  const cursors = new Map<string, number>();
  const errors: ConfabError[] = [];
  const takenErrors = new Set<ConfabError>();
  const arrivals = new Set<() => void>();
  const notify = () => {
    for (const check of [...arrivals]) check();
  };
  client.use({
    name: 'confab:test-recorder',
    attach(ctx) {
      ctx.on('welcome', () => {
        for (const channel of client.channels.keys()) {
          ctx.onMessage(channel, (message) => {
            const list = received.get(channel) ?? [];
            list.push(message instanceof Uint8Array ? message.slice() : message);
            received.set(channel, list);
            notify();
          });
        }
      });
    },
  });
  client.on('serverError', (error) => {
    errors.push(error);
    notify();
  });

  /** Waits until `find()` returns something, re-checking at every arrival. */
  const waitUntilFound = <T>(find: () => T | undefined, timeoutMs: number, failure: () => string): Promise<T> => {
    const found = find();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = find();
        if (value === undefined) return;
        arrivals.delete(check);
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        arrivals.delete(check);
        reject(new Error(failure()));
      }, timeoutMs);
      arrivals.add(check);
    });
  };
  const who = () => client.self?.name ?? 'the client';

  return {
    client,
    get name() {
      return client.self!.name;
    },
    get id() {
      return client.self!.id;
    },
    messages: (channel) => [...(received.get(channel) ?? [])],
    errors,
    waitForMessage(channel, match, timeoutMs = DEFAULT_WAIT_MS) {
      const matches = toPredicate(match);
      const start = cursors.get(channel) ?? 0;
      const find = () => {
        const list = received.get(channel) ?? [];
        for (let index = start; index < list.length; index++) {
          if (matches(list[index]!)) return index;
        }
        return undefined;
      };
      return waitUntilFound(find, timeoutMs, () => {
        const unread = (received.get(channel) ?? []).slice(start);
        return `timed out after ${timeoutMs} ms: ${who()} waited for a message on "${channel}"` +
          `${match ? ` matching ${describe(match)}` : ''}; since the last wait it received ${unread.length} on "${channel}"` +
          `${unread.length ? `: ${unread.slice(-5).map(describe).join(', ')}${unread.length > 5 ? ' (last 5)' : ''}` : ''}` +
          `${errors.length ? `; server errors: ${errors.map((e) => e.code).join(', ')}` : ''}`;
      }).then((index) => {
        cursors.set(channel, index + 1);
        return received.get(channel)![index]!;
      });
    },
    waitForEvent(event, match, timeoutMs = DEFAULT_WAIT_MS) {
      return new Promise((resolve, reject) => {
        const listener = (...args: ClientEvents[typeof event]) => {
          if (match && !match(...args)) return;
          clearTimeout(timer);
          client.off(event, listener);
          resolve(args);
        };
        const timer = setTimeout(() => {
          client.off(event, listener);
          reject(new Error(`timed out after ${timeoutMs} ms: ${who()} waited for the "${String(event)}" event`));
        }, timeoutMs);
        client.on(event, listener);
      });
    },
    waitForError(code, timeoutMs = DEFAULT_WAIT_MS) {
      const find = () => errors.find((error) => error.code === code && !takenErrors.has(error));
      return waitUntilFound(find, timeoutMs, () =>
        `timed out after ${timeoutMs} ms: ${who()} waited for a server error ${code}; ` +
        `it got ${errors.length ? errors.map((e) => `${e.code} (${e.message})`).join(', ') : 'none'}`,
      ).then((error) => {
        takenErrors.add(error);
        return error;
      });
    },
    close: () => client.close(),
  };
}

function toPredicate(match: MessageMatch | undefined): (message: ReceivedMessage) => boolean {
  if (match === undefined) return () => true;
  if (typeof match === 'function') return match;
  return (message) => !(message instanceof Uint8Array) && Object.entries(match).every(([key, value]) => isDeepStrictEqual(message[key], value));
}

function describe(value: unknown): string {
  if (typeof value === 'function') return `a predicate (${value.toString().slice(0, 80)})`;
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  return inspect(value, { depth: 4, breakLength: Infinity, maxStringLength: 200 });
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits until `condition()` is true, checking every 10 ms; rejects after `timeoutMs` with
 * `timed out after … waiting for <what>`.
 */
export async function waitFor(condition: () => boolean, what = 'a condition', timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}
