/**
 * The client SDK joins again by itself when its session cannot be resumed: the server restarted (a crash or
 * a clean stop), with what was sent meanwhile delivered exactly once.
 */
import { connect as connectTcp, createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient, type ClientEvents, type ClientOptions } from '../../core/client/node.js';
import { ConfabError } from '../../core/errors.js';
import type { Plugin } from '../../core/types.js';
import { chatClient } from '../../plugins/chat/client.js';
import type { ChatMessage } from '../../plugins/chat/protocol.js';
import { chat } from '../../plugins/chat/server.js';
import { startTestServer, waitFor, type TestServer } from '../../core/testing.js';

/** Resolves with the arguments of the next `event`; rejects after `timeoutMs`. */
function next<K extends keyof ClientEvents>(client: ConfabClient, event: K, timeoutMs = 10_000): Promise<ClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${String(event)} within ${timeoutMs} ms`)), timeoutMs);
    client.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

/** A chat client that records the messages it sees. */
function chatter(options: ClientOptions) {
  const client = new ConfabClient({ backoff: { initialMs: 20, maxMs: 200 }, ...options });
  const chat = client.use(chatClient());
  const seen: ChatMessage[] = [];
  chat.on('message', (message) => seen.push(message));
  return { client, chat, seen, texts: () => seen.map((m) => `${m.from.name}: ${m.text}`) };
}

/** A plugin that swallows the chat acks to one name, as a connection cut right after the server stored a message would. */
function dropAcksTo(name: string): Plugin {
  return {
    name: 'drop-acks',
    setup(ctx) {
      ctx.hooks.outgoing.tap('drop-acks', (out) => {
        if (!out || out.channel !== 'chat' || out.to?.name !== name) return out;
        return (out.message as { op?: string }).op === 'ack' ? false : out;
      });
    },
  };
}

/** Runs `body` with a server it may restart (same port and data directory), stopping whatever runs at the end. */
async function withRestarts(plugins: () => Plugin[], body: (first: TestServer, restart: (extra?: Plugin[]) => Promise<TestServer>) => Promise<void>): Promise<void> {
  const first = await startTestServer({ plugins: plugins() });
  const servers = [first];
  try {
    await body(first, async (extra = []) => {
      const again = await startTestServer({ plugins: [...plugins(), ...extra], server: { port: first.port, dataDir: first.dataDir } });
      servers.push(again);
      return again;
    });
  } finally {
    // The newest removes the shared data directory; a server stopped already keeps its first stop's choice.
    for (const server of servers.reverse()) await server.close();
  }
}

/**
 * A loopback TCP proxy standing in for a server that crashes: `crash()` resets every connection (no BYE
 * reaches the clients) and refuses new ones until `recover(port)` points it at the restarted server.
 */
class CrashingLink {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #target: number | undefined;

  private constructor(server: Server, target: number) {
    this.#server = server;
    this.#target = target;
  }

  static async start(target: number): Promise<CrashingLink> {
    const server = createTcpServer();
    const link = new CrashingLink(server, target);
    server.on('connection', (client) => {
      if (link.#target === undefined) return void client.resetAndDestroy();
      const upstream = connectTcp({ host: '127.0.0.1', port: link.#target });
      for (const socket of [client, upstream]) {
        link.#sockets.add(socket);
        socket.on('close', () => link.#sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    return link;
  }

  get url(): string {
    return `tcp://127.0.0.1:${(this.#server.address() as { port: number }).port}`;
  }

  /** Every connection reset, new ones refused. */
  crash(): void {
    this.#target = undefined;
    for (const socket of this.#sockets) socket.resetAndDestroy();
  }

  /** New connections go to `port`. */
  recover(port: number): void {
    this.#target = port;
  }

  async close(): Promise<void> {
    this.crash();
    await new Promise((done) => this.#server.close(done));
  }
}

test('after a crash and a restart, clients join again by themselves with the same names, and a line sent meanwhile arrives once', async () => {
  await withRestarts(() => [chat()], async (first, restart) => {
    const link = await CrashingLink.start(first.port);
    const alice = chatter({ url: link.url, name: 'alice', room: 'lab' });
    const bob = chatter({ url: link.url, name: 'bob', room: 'lab' });
    try {
      await alice.client.connect();
      await bob.client.connect();
      await alice.chat.send('before the crash');
      await waitFor(() => bob.seen.length === 1, 'bob to get the first line', 3000);

      const aliceRejoined = next(alice.client, 'rejoined');
      const bobRejoined = next(bob.client, 'rejoined');
      const resumeRefused = new Promise<void>((resolve) => alice.client.on('reconnecting', (event) => event.error.code === 'RESUME_FAILED' && resolve()));
      const oldAlice = alice.client.self!;
      link.crash();
      const sentWhileDown = alice.chat.send('while the server was down');
      await first.close({ keepData: true });
      link.recover((await restart()).port);
      await resumeRefused;

      const [event] = await aliceRejoined;
      await bobRejoined;
      assert.is(event.previous.id, oldAlice.id);
      assert.equal({ name: alice.client.self!.name, room: alice.client.self!.room }, { name: 'alice', room: 'lab' });
      assert.is.not(alice.client.self!.id, oldAlice.id, 'a new session');
      assert.is((await sentWhileDown).text, 'while the server was down');
      await waitFor(() => bob.texts().includes('alice: while the server was down'), 'bob to get the line sent while down', 5000);
      await waitFor(() => alice.client.peers.size === 1, 'alice to see bob again', 5000);
      await bob.chat.send('after the restart');
      await waitFor(() => alice.texts().includes('bob: after the restart'), 'chat to go on', 5000);
      assert.equal(bob.texts().filter((line) => line === 'alice: while the server was down').length, 1);
      assert.equal(alice.chat.messages.map((m) => m.text), ['before the crash', 'while the server was down', 'after the restart'],
        'the history of the restarted server fills the conversation, each line once');
    } finally {
      await alice.client.close();
      await bob.client.close();
      await link.close();
    }
  });
});

test('a line the old server stored but never acknowledged is stored once after the restart (its clientId is in the history)', async () => {
  // The ack to alice is swallowed by the first server: her send is stored and broadcast, and still pending.
  const first = await startTestServer({ plugins: [chat(), dropAcksTo('alice')] });
  let second: TestServer | undefined;
  const url = `tcp://127.0.0.1:${first.port}`;
  const alice = chatter({ url, name: 'alice', room: 'lab' });
  const bob = chatter({ url, name: 'bob', room: 'lab' });
  try {
    await alice.client.connect();
    await bob.client.connect();
    const sent = alice.chat.send('stored, not acknowledged');
    await waitFor(() => bob.seen.length === 1, 'bob to get the line', 3000);
    const storedId = bob.seen[0]!.id;
    const rejoined = Promise.all([next(alice.client, 'rejoined'), next(bob.client, 'rejoined')]);
    await first.close({ keepData: true });
    second = await startTestServer({ plugins: [chat()], server: { port: first.port, dataDir: first.dataDir } });
    await rejoined;
    const acked = await sent;
    assert.is(acked.id, storedId, 'the ack names the message stored before the restart');
    const history = await new Promise<ChatMessage[]>((resolve) => {
      const carol = chatter({ url, name: 'carol', room: 'lab' });
      carol.chat.once('history', (messages) => void carol.client.close().then(() => resolve(messages)));
      void carol.client.connect();
    });
    assert.equal(history.map((m) => m.text), ['stored, not acknowledged'], 'stored once');
    assert.equal(alice.chat.messages.map((m) => m.text), ['stored, not acknowledged'], 'shown once');
  } finally {
    await alice.client.close();
    await bob.client.close();
    await second?.close();
    await first.close();
  }
});

test('server.close() says BYE "server closing": the client keeps its messages, waits, and joins again when a server is back', async () => {
  await withRestarts(() => [chat()], async (first, restart) => {
    const alice = chatter({ url: `tcp://127.0.0.1:${first.port}`, name: 'alice_1', room: 'lab' });
    try {
      await alice.client.connect();
      const reconnecting = next(alice.client, 'reconnecting');
      await first.close({ keepData: true });
      const [attempt] = await reconnecting;
      assert.is(attempt.error.code, 'SERVER_CLOSING');
      assert.ok(attempt.rejoin, 'the session is over: the next attempt joins again');
      assert.is(alice.client.state, 'reconnecting');
      const queued = alice.chat.send('queued during the stop');
      const rejoined = next(alice.client, 'rejoined');
      await restart();
      await rejoined;
      assert.is(alice.client.self!.name, 'alice_1', 'the name the server gave, asked for again');
      assert.is((await queued).text, 'queued during the stop');
    } finally {
      await alice.client.close();
    }
  });
});

test('a rejoin the restarted server refuses closes the client with the server\'s error', async () => {
  const refuseAlice: Plugin = {
    name: 'refuse-alice',
    setup(ctx) {
      ctx.hooks.handshake.tapPromise('refuse-alice', async (hello) =>
        hello.name === 'alice' ? new ConfabError('HANDSHAKE_REFUSED', 'alice is not welcome any more') : undefined);
    },
  };
  await withRestarts(() => [], async (first, restart) => {
    const alice = new ConfabClient({ url: `tcp://127.0.0.1:${first.port}`, name: 'alice', backoff: { initialMs: 20, maxMs: 200 } });
    await alice.connect();
    const closed = next(alice, 'close');
    await first.close({ keepData: true });
    await restart([refuseAlice]);
    const [event] = await closed;
    assert.is(event.reason, 'error');
    assert.is(event.error?.code, 'HANDSHAKE_REFUSED');
    assert.is(alice.state, 'closed');
  });
});

test.run();
