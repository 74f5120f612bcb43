/**
 * Spare node links on real sockets: the first relay to a node dials, and every later one takes the spare
 * dialled meanwhile (already proven, so it is accepted as soon as it names its client); a spare whose host
 * went away is never handed out; `close` ends the spares.
 */
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LinkPool } from '../../core/cluster/link-pool.js';
import { dialNodeLink, listenNodeLink, sendLinkClient, type LinkClient, type NodeLinkListener } from '../../core/cluster/node-link.js';
import type { NodeInfo } from '../../core/cluster/types.js';
import { isConfabError } from '../../core/errors.js';
import { waitFor } from '../../core/testing.js';

const SECRET = 'a cluster secret of some length';
const CLIENT: LinkClient = { remoteAddress: '127.0.0.9', transport: 'tcp' };

async function hostNode() {
  const accepted: Socket[] = [];
  const listener: NodeLinkListener = await listenNodeLink({
    host: '127.0.0.1', port: 0, secret: SECRET, node: 'node-b', accept: (socket) => accepted.push(socket),
  });
  const target: NodeInfo = {
    id: 'node-b', linkHost: '127.0.0.1', linkPort: listener.port, machine: 'm', startedAt: Date.now(), load: { sessions: 0, rooms: 0, cpu: 0 },
  };
  const close = async () => {
    for (const socket of accepted) socket.destroy();
    await listener.close();
  };
  return { target, accepted, close };
}

function countingPool() {
  const dials = { count: 0 };
  const pool = new LinkPool((target) => {
    dials.count++;
    return dialNodeLink({ host: target.linkHost, port: target.linkPort, secret: SECRET, node: 'node-a', expect: target.id });
  });
  return { pool, dials };
}

test('the first relay dials; the next ones take the spare dialled meanwhile, which works like a new link', async () => {
  const b = await hostNode();
  const { pool, dials } = countingPool();
  try {
    const first = await pool.take(b.target);
    assert.is(dials.count, 2, 'one link now and one spare');
    await waitFor(() => b.accepted.length === 0 && dials.count === 2, 'nothing accepted before a client line');
    for (let i = 1; i <= 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50)); // the spare is proven by now
      const link = await pool.take(b.target);
      assert.is(dials.count, 2 + i, 'a spare was taken and one more dialled');
      sendLinkClient(link, CLIENT);
      link.write(`frames ${i}`);
      await waitFor(() => b.accepted.length === i, 'the spare accepted once it names its client');
      link.destroy();
    }
    first.destroy();
  } finally {
    pool.close();
    await b.close();
  }
});

test('a spare whose host went away is not handed out; after close, nothing is dialled ahead', async () => {
  const b = await hostNode();
  const { pool, dials } = countingPool();
  try {
    (await pool.take(b.target)).destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await b.close(); // ends the waiting spare
    await new Promise((resolve) => setTimeout(resolve, 100)); // its end reaches this side
    const error = await pool.take(b.target).catch((failure: unknown) => failure);
    assert.ok(isConfabError(error), String(error));
    assert.is(error.code, 'ROOM_UNREACHABLE');
  } finally {
    await b.close();
  }

  const c = await hostNode();
  try {
    const link = await pool.take(c.target);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const before = dials.count;
    pool.close();
    const closed = once(link, 'close');
    link.destroy();
    await closed;
    const after = await pool.take(c.target);
    assert.is(dials.count, before + 1, 'a new link, and no spare after close');
    after.destroy();
    await waitFor(() => c.accepted.length === 0, 'no client named, nothing accepted');
  } finally {
    await c.close();
  }
});

test.run();
