/**
 * The node link's handshake on real sockets: two nodes with the same secret connect and the bytes after the
 * client line reach the listener; a proven link waits as a spare for its client line, and is closed when it
 * waits too long or the listener closes; a forged node (wrong secret), a stranger speaking something else, an
 * over-long line and a silent dialer are refused with NODE_LINK_REFUSED and never reach `accept`. Over TLS
 * the proofs are bound to the TLS session.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dialNodeLink, listenNodeLink, sendLinkClient, type LinkClient } from '../../core/cluster/node-link.js';
import { isConfabError } from '../../core/errors.js';
import { waitFor } from '../../core/testing.js';
import { loadServerTls } from '../../core/tls.js';

const SECRET = 'a cluster secret of some length';
const CLIENT: LinkClient = { remoteAddress: '127.0.0.9', transport: 'ws' };

interface Accepted { socket: Socket; rest: Buffer; client: LinkClient; from: string }

async function listener(tls?: Parameters<typeof listenNodeLink>[0]['tls'], spareWaitMs?: number) {
  const accepted: Accepted[] = [];
  const refused: string[] = [];
  const link = await listenNodeLink({
    host: '127.0.0.1',
    port: 0,
    secret: SECRET,
    node: 'node-b',
    tls,
    spareWaitMs,
    accept: (socket, rest, client, from) => accepted.push({ socket, rest, client, from }),
    refused: (reason) => refused.push(reason),
  });
  const port = link.port;
  const close = async () => {
    for (const { socket } of accepted) socket.destroy();
    await link.close();
  };
  return { port, accepted, refused, close };
}

test('two nodes with the same secret link up; what follows the handshake reaches the listener', async () => {
  const b = await listener();
  try {
    const link = await dialNodeLink({ host: '127.0.0.1', port: b.port, secret: SECRET, node: 'node-a', expect: 'node-b' });
    sendLinkClient(link, CLIENT);
    link.write('frames');
    await waitFor(() => b.accepted.length === 1, 'the link accepted');
    const [accepted] = b.accepted;
    assert.equal(accepted!.client, CLIENT);
    assert.is(accepted!.from, 'node-a');
    const received: Buffer[] = [accepted!.rest];
    accepted!.socket.on('data', (chunk: Buffer) => received.push(chunk));
    accepted!.socket.resume();
    await waitFor(() => Buffer.concat(received).toString() === 'frames', 'the bytes after the handshake');
    accepted!.socket.write('back');
    const [answer] = await once(link.resume(), 'data');
    assert.is(String(answer), 'back');
    link.destroy();
  } finally {
    await b.close();
  }
});

test('a proven link waits as a spare: its client line may come later; one that waits too long is closed, unrefused', async () => {
  const b = await listener(undefined, 400);
  try {
    const spare = await dialNodeLink({ host: '127.0.0.1', port: b.port, secret: SECRET, node: 'node-a', expect: 'node-b' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.is(b.accepted.length, 0, 'not accepted before its client line');
    sendLinkClient(spare, CLIENT);
    spare.write('late frames');
    await waitFor(() => b.accepted.length === 1, 'the spare accepted once it names its client');
    assert.equal(b.accepted[0]!.client, CLIENT);
    assert.is(String(b.accepted[0]!.rest), 'late frames');
    spare.destroy();

    const idle = await dialNodeLink({ host: '127.0.0.1', port: b.port, secret: SECRET, node: 'node-a', expect: 'node-b' });
    await once(idle.resume(), 'close');
    assert.is(b.accepted.length, 1);
    assert.equal(b.refused, [], 'an unused spare is not a refusal');
  } finally {
    await b.close();
  }
});

test('a proven link that sends something else than a client line is refused; close ends waiting spares', async () => {
  const b = await listener();
  try {
    const confused = await dialNodeLink({ host: '127.0.0.1', port: b.port, secret: SECRET, node: 'node-a', expect: 'node-b' });
    const answer: Buffer[] = [];
    confused.on('data', (chunk: Buffer) => answer.push(chunk)).on('error', () => {}).resume();
    confused.write('{"frames":"not a client"}\n');
    await new Promise((resolve) => confused.once('close', resolve));
    assert.match(Buffer.concat(answer).toString(), /NODE_LINK_REFUSED/);
    await waitFor(() => b.refused.some((reason) => /names no client/.test(reason)), 'the refusal reported');

    const waiting = await dialNodeLink({ host: '127.0.0.1', port: b.port, secret: SECRET, node: 'node-a', expect: 'node-b' });
    const closed = new Promise((resolve) => waiting.on('error', () => {}).once('close', resolve).resume());
    await b.close();
    await closed;
    assert.is(b.accepted.length, 0);
  } finally {
    await b.close();
  }
});

test('a forged node (wrong secret) is refused on both sides, and never accepted', async () => {
  const b = await listener();
  try {
    const forged = await dialNodeLink({ host: '127.0.0.1', port: b.port, secret: 'not the cluster secret!!', node: 'node-x', expect: 'node-b' })
      .catch((error: unknown) => error);
    assert.ok(isConfabError(forged), String(forged));
    assert.is(forged.code, 'NODE_LINK_REFUSED');
    assert.match(forged.message, /does not prove node node-b/);
    assert.not.match(forged.message, /cluster secret of some length/);
    assert.is(b.accepted.length, 0);

    // A forger that skips checking the listener's proof and just answers: its own proof is wrong.
    const socket = connect(b.port, '127.0.0.1');
    await once(socket, 'connect');
    const lines: string[] = [];
    socket.on('data', (chunk: Buffer) => lines.push(...String(chunk).split('\n').filter(Boolean)));
    socket.write(`${JSON.stringify({ link: 1, node: 'node-x', nonce: 'n' })}\n`);
    await waitFor(() => lines.length === 1, 'the challenge');
    socket.write(`${JSON.stringify({ proof: 'AAAA' })}\n`);
    await waitFor(() => lines.length === 2, 'the refusal');
    assert.equal(JSON.parse(lines[1]!), { error: 'NODE_LINK_REFUSED' });
    await waitFor(() => b.refused.some((reason) => /did not prove/.test(reason)), 'the refusal reported');
    assert.is(b.accepted.length, 0);
    socket.destroy();
  } finally {
    await b.close();
  }
});

test('garbage, an over-long line and a node expected under another id are refused', async () => {
  const b = await listener();
  try {
    for (const bytes of ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', `${'x'.repeat(5000)}`, '{"link":2}\n']) {
      const socket = connect(b.port, '127.0.0.1');
      await once(socket, 'connect');
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.write(bytes);
      await once(socket, 'close');
      assert.match(Buffer.concat(chunks).toString(), /NODE_LINK_REFUSED/, `answer to ${bytes.slice(0, 20)}`);
    }
    const wrongId = await dialNodeLink({ host: '127.0.0.1', port: b.port, secret: SECRET, node: 'node-a', expect: 'node-c' })
      .catch((error: unknown) => error);
    assert.ok(isConfabError(wrongId));
    assert.is(wrongId.code, 'NODE_LINK_REFUSED');
    assert.is(b.accepted.length, 0);
  } finally {
    await b.close();
  }
});

test('a node that cannot be reached is ROOM_UNREACHABLE', async () => {
  const b = await listener();
  const port = b.port;
  await b.close();
  const error = await dialNodeLink({ host: '127.0.0.1', port, secret: SECRET, node: 'node-a', expect: 'node-b' })
    .catch((failure: unknown) => failure);
  assert.ok(isConfabError(error));
  assert.is(error.code, 'ROOM_UNREACHABLE');
});

test('over TLS the nodes link up, and the proofs bind the TLS session', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'confab-link-tls-'));
  try {
    const tls = await loadServerTls({ host: '127.0.0.1', tls: 'self-signed', dataDir: dir });
    const b = await listener(tls!.context);
    try {
      const link = await dialNodeLink({ host: '127.0.0.1', port: b.port, secret: SECRET, node: 'node-a', expect: 'node-b', tls: true });
      sendLinkClient(link, CLIENT);
      assert.ok('encrypted' in link, 'a TLS socket');
      await waitFor(() => b.accepted.length === 1, 'the link accepted');
      link.destroy();
      // A plain dialer to a TLS link gets nowhere.
      const plain = await dialNodeLink({ host: '127.0.0.1', port: b.port, secret: SECRET, node: 'node-a', expect: 'node-b', timeoutMs: 1000 })
        .catch((error: unknown) => error);
      assert.ok(isConfabError(plain));
      assert.is(b.accepted.length, 1);
    } finally {
      await b.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
