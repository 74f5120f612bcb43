/**
 * Interop: the Python client in test/interop/confab_client.py, written from docs/protocol.md alone, talks to a
 * real server next to a Node SDK client. Run: node --import tsx test/interop/python-client.test.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import { chatClient, type ChatApi } from '../../plugins/chat/client.js';
import type { ChatMessage } from '../../plugins/chat/protocol.js';
import { chat } from '../../plugins/chat/server.js';
import { startTestServer, waitFor, type TestServer } from '../../core/testing.js';

const SCRIPT = fileURLToPath(new URL('./confab_client.py', import.meta.url));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type PyEvent = { event: string; [key: string]: any };

/** One run of the Python client: its stdout JSON lines as they arrive, and its exit. */
class PythonRun {
  readonly events: PyEvent[] = [];
  stderr = '';
  exitCode: number | null = null;
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(args: string[]) {
    this.child = spawn('python3', [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line) this.events.push(JSON.parse(line) as PyEvent);
      }
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code) => {
        this.exitCode = code;
        resolve(code);
      });
    });
  }

  get running(): boolean {
    return this.exitCode === null && this.child.exitCode === null && this.child.signalCode === null;
  }

  of(event: string): PyEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  async waitEvent(match: (e: PyEvent) => boolean, what: string, timeoutMs = 5000): Promise<PyEvent> {
    await waitFor(() => this.events.some(match) || !this.running, what, timeoutMs);
    const found = this.events.find(match);
    if (!found) throw new Error(`python exited without ${what}: ${JSON.stringify(this.events)} ${this.stderr}`);
    return found;
  }

  async finish(timeoutMs = 10_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`python did not exit within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the process by its PID if it is still running. */
  kill(): void {
    if (this.running && this.child.pid !== undefined) {
      try {
        process.kill(this.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

interface NodeMember {
  client: ConfabClient;
  chat: ChatApi;
  received: ChatMessage[];
  joined: { id: string; name: string }[];
  left: { id: string; name: string }[];
}

async function joinNode(port: number, name: string, room: string): Promise<NodeMember> {
  const client = new ConfabClient({ url: `tcp://127.0.0.1:${port}`, name, room });
  const api = client.use(chatClient());
  const member: NodeMember = { client, chat: api, received: [], joined: [], left: [] };
  api.on('message', (m) => member.received.push(m));
  client.on('peerJoined', (peer) => member.joined.push(peer));
  client.on('peerLeft', (peer) => member.left.push(peer));
  await client.connect();
  return member;
}

/** Runs `body` with a chat server; stops the server, the Node clients and every Python run afterwards. */
async function withSetup(body: (ctx: { server: TestServer; runs: PythonRun[]; nodes: NodeMember[] }) => Promise<void>): Promise<void> {
  const server = await startTestServer({ plugins: [chat()] });
  const runs: PythonRun[] = [];
  const nodes: NodeMember[] = [];
  try {
    await body({ server, runs, nodes });
  } finally {
    for (const run of runs) run.kill();
    await Promise.all(runs.map((run) => run.exited));
    for (const node of nodes) await node.client.close().catch(() => undefined);
    await server.close();
  }
}

test('python client and Node SDK chat both ways; python sees the Node peer and gets an ack with a server id', async () => {
  await withSetup(async ({ server, runs, nodes }) => {
    const node = await joinNode(server.port, 'node-alice', 'interop');
    nodes.push(node);
    const py = new PythonRun(['--port', String(server.port), '--name', 'py-bob', '--room', 'interop', '--say', 'hello from python', '--listen', '3']);
    runs.push(py);

    const welcome = await py.waitEvent((e) => e.event === 'welcome', 'WELCOME');
    assert.is(welcome.resumed, false);
    assert.is(welcome.name, 'py-bob');
    assert.is(typeof welcome.channels.chat, 'number');
    assert.is(welcome.heartbeatMs, 3000);
    const nodeId = node.client.self!.id;
    const seenInWelcome = welcome.peers.some((p: { id: string; name: string }) => p.id === nodeId && p.name === 'node-alice');
    const seenJoining = py.of('peer_joined').some((e) => e.id === nodeId && e.name === 'node-alice');
    assert.ok(seenInWelcome || seenJoining, 'python sees the Node peer');

    const ack = await py.waitEvent((e) => e.event === 'ack', 'the ack');
    assert.is(ack.text, 'hello from python');
    assert.match(ack.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'a server-assigned UUID');
    assert.is(typeof ack.ts, 'number');
    assert.ok(String(ack.clientId).startsWith('py-'), 'the ack carries our clientId');
    assert.equal(ack.from, { id: welcome.session, name: 'py-bob' });

    await waitFor(() => node.received.some((m) => m.text === 'hello from python'), 'Node to receive the python message', 3000);
    const fromPy = node.received.find((m) => m.text === 'hello from python')!;
    assert.equal(fromPy.from, { id: welcome.session, name: 'py-bob' });
    assert.is(fromPy.id, ack.id);
    assert.ok(node.joined.some((p) => p.id === welcome.session), 'Node saw the python peer join');

    const sent = await node.chat.send('hello from node');
    const got = await py.waitEvent((e) => e.event === 'message' && e.text === 'hello from node', 'the Node message');
    assert.is(got.id, sent.id);
    assert.equal(got.from, { id: nodeId, name: 'node-alice' });

    assert.is(await py.finish(), 0, `python exit code (stderr: ${py.stderr})`);
    const last = py.events[py.events.length - 1];
    assert.is(last.event, 'left', 'python says BYE on exit');
    // history, ack, message: three numbered frames
    assert.is(last.received, 3);
    await waitFor(() => node.left.some((p) => p.id === welcome.session), 'Node to see the python peer leave', 3000);
  });
});

test('python client drops without BYE, resumes with token and count, and gets the message sent while away', async () => {
  await withSetup(async ({ server, runs, nodes }) => {
    const node = await joinNode(server.port, 'node-alice', 'interop');
    nodes.push(node);
    const base = ['--port', String(server.port), '--name', 'py-bob', '--room', 'interop'];

    const first = new PythonRun([...base, '--say', 'before the drop', '--drop-after', '1']);
    runs.push(first);
    assert.is(await first.finish(), 0, `first run exit code (stderr: ${first.stderr})`);
    const welcome1 = first.of('welcome')[0];
    const dropped = first.events[first.events.length - 1];
    assert.is(dropped.event, 'dropped');
    assert.is(typeof dropped.resume, 'string');
    assert.is(dropped.resume, welcome1.resume);
    assert.is(dropped.received, 2, 'history and ack are numbered');
    await waitFor(() => node.received.some((m) => m.text === 'before the drop'), 'the first message', 3000);

    const away = await node.chat.send('while you were away');
    assert.is(node.left.length, 0, 'a dropped connection is not a PEER_LEFT: the session waits for a resume');

    const second = new PythonRun([...base, '--resume', dropped.resume, '--received', String(dropped.received), '--listen', '1']);
    runs.push(second);
    assert.is(await second.finish(), 0, `second run exit code (stderr: ${second.stderr})`);
    const welcome2 = second.of('welcome')[0];
    assert.ok(welcome2, 'a WELCOME');
    assert.is(welcome2.resumed, true);
    assert.is(welcome2.session, welcome1.session, 'the same session');
    assert.is(welcome2.name, welcome1.name);
    assert.is.not(welcome2.resume, dropped.resume, 'a new resume token');
    assert.ok(welcome2.peers.some((p: { id: string }) => p.id === node.client.self!.id), 'the Node peer is still there');

    const messages = second.of('message');
    assert.equal(messages.map((m) => m.text), ['while you were away'], 'exactly the missed message is replayed');
    assert.is(messages[0].id, away.id);
    assert.equal(messages[0].from, { id: node.client.self!.id, name: 'node-alice' });
    assert.is(second.of('history').length, 0, 'no history after a resume');
    assert.is(second.of('ack').length, 0, 'nothing from before the drop is replayed');

    const left = second.events[second.events.length - 1];
    assert.is(left.event, 'left');
    assert.is(left.received, dropped.received + 1, 'the count goes on from the resumed value');
    await waitFor(() => node.left.some((p) => p.id === welcome1.session), 'Node to see the python peer leave after its BYE', 3000);
    assert.is(node.left.filter((p) => p.id === welcome1.session).length, 1, 'the room saw the python peer leave once');
    assert.is(node.joined.filter((p) => p.id === welcome1.session).length, 1, 'no PEER_JOINED on resume');

    // The used token no longer works once the session has ended.
    const third = new PythonRun([...base, '--resume', welcome2.resume, '--received', String(left.received)]);
    runs.push(third);
    assert.is(await third.finish(), 1);
    assert.is(third.of('error')[0]?.code, 'RESUME_FAILED');
  });
});

test.run();
