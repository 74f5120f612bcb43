import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isConfabError } from '../../core/errors.js';
import { startTestServer } from '../../core/testing.js';
import { RawClient } from '../helpers/raw-client.js';
import { handRaiseClient } from '../../plugins/examples/hand-raise/client.js';
import { parseHandsRequest } from '../../plugins/examples/hand-raise/protocol.js';
import { handRaise } from '../../plugins/examples/hand-raise/server.js';

const hands = () => ({ hands: handRaiseClient() });
/** Matches a `queue` message listing exactly these names, in order. */
const queueIs = (...expected: string[]) => (m: Record<string, any>) =>
  m.op === 'queue' && m.queue.map((entry: { name: string }) => entry.name).join() === expected.join();

test('hands: raise keeps the order, lower takes one out, a joiner gets the queue', async () => {
  const lab = await startTestServer({ plugins: [handRaise()] });
  try {
    const alice = await lab.connect('alice', { plugins: hands() });
    const bob = await lab.connect('bob', { plugins: hands() });
    const carol = await lab.connect('carol', { plugins: hands() });
    bob.hands.raise();
    await alice.waitForMessage('hands', (m) => m.queue?.length === 1);
    carol.hands.raise();
    alice.hands.raise();
    await bob.waitForMessage('hands', queueIs('bob', 'carol', 'alice'));
    await lab.waitFor(() => bob.hands.raised, 'bob to see his hand up');

    carol.hands.lower();
    await alice.waitForMessage('hands', queueIs('bob', 'alice'));
    const dave = await lab.connect('dave', { plugins: hands() });
    const first = await dave.waitForMessage('hands');
    assert.ok(queueIs('bob', 'alice')(first), 'the first message a joiner gets is the queue');

    bob.hands.raise();
    assert.is((await bob.waitForError('HANDS_ALREADY_RAISED')).channel, 'hands');
    carol.hands.lower();
    await carol.waitForError('HANDS_NOT_RAISED');

    await bob.close();
    await alice.waitForMessage('hands', queueIs('alice'));
  } finally {
    await lab.close();
  }
});

test('hands: only a moderator lowers others and calls next; next calls the first', async () => {
  const lab = await startTestServer({ plugins: [handRaise()] });
  try {
    const teacher = await lab.connect('teacher', { plugins: hands() });
    const alice = await lab.connect('alice', { plugins: hands() });
    const bob = await lab.connect('bob', { plugins: hands() });
    for (const student of [alice, bob]) lab.session(student).grants.delete('moderate');
    alice.hands.raise();
    await teacher.waitForMessage('hands', (m) => m.queue?.length === 1);
    bob.hands.raise();
    await teacher.waitForMessage('hands', (m) => m.queue?.length === 2);

    bob.hands.lower(alice.id);
    await bob.waitForError('HANDS_NOT_ALLOWED');
    bob.hands.next();
    await bob.waitForError('HANDS_NOT_ALLOWED');

    teacher.hands.next();
    const called = await bob.waitForMessage('hands', { op: 'called' });
    assert.is(called.entry.name, 'alice');
    assert.is(called.by.name, 'teacher');
    await bob.waitForMessage('hands', queueIs('bob'));

    teacher.hands.lower(bob.id);
    await alice.waitForMessage('hands', (m) => m.queue?.length === 0);
    teacher.hands.next();
    await teacher.waitForError('HANDS_QUEUE_EMPTY');
  } finally {
    await lab.close();
  }
});

test('parseHandsRequest() refuses a bad op or a session that is no string with HANDS_BAD_REQUEST and the ref', () => {
  for (const message of [{ op: 'shout', ref: 'r1' }, { op: 'lower', session: { id: 1 }, ref: 'r1' }, { ref: 'r1' }]) {
    try {
      parseHandsRequest(message);
      assert.unreachable(`${JSON.stringify(message)} was accepted`);
    } catch (error) {
      assert.ok(isConfabError(error) && error.code === 'HANDS_BAD_REQUEST' && error.ref === 'r1', JSON.stringify(message));
    }
  }
  assert.equal(parseHandsRequest({ op: 'lower', session: 's1', extra: true }), { op: 'lower', session: 's1', ref: undefined });
});

test('hands: bad requests get HANDS_BAD_REQUEST with their ref and the queue is untouched', async () => {
  const lab = await startTestServer({ plugins: [handRaise()] });
  try {
    const alice = await lab.connect('alice', { plugins: hands() });
    const { client: raw, welcome } = await RawClient.join('tcp', lab.port, { name: 'mallory', room: 'default' });
    const id = welcome.channels.hands!;
    raw.sendJson(id, { op: 'lower', session: { id: 1 }, ref: 'm1' });
    raw.sendJson(id, { op: 'shout', ref: 'm2' });
    raw.sendJson(id, { op: 'lower', session: alice.id, ref: 'm3' });
    const errors = [await raw.nextError(), await raw.nextError(), await raw.nextError()].map((e) => `${e.code} ${e.ref} ${e.channel}`);
    assert.equal(errors, ['HANDS_BAD_REQUEST m1 hands', 'HANDS_BAD_REQUEST m2 hands', 'HANDS_NOT_RAISED m3 hands']);
    alice.hands.raise();
    await alice.waitForMessage('hands', (m) => m.queue?.length === 1);
    raw.destroy();
  } finally {
    await lab.close();
  }
});

test.run();
