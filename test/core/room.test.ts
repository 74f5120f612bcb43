import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeJsonFrame } from '../../core/frame.js';
import { FrameType } from '../../core/protocol.js';
import { MAX_NAME_LENGTH, Room } from '../../core/room.js';
import { startTestServer } from '../../core/testing.js';

test('room.uniqueName() keeps a free name and numbers a taken one, within MAX_NAME_LENGTH', async () => {
  const lab = await startTestServer();
  try {
    await lab.connect('alice', { room: 'lab' });
    await lab.connect('alice', { room: 'lab' });
    const room = lab.server.rooms.get('lab')!;
    assert.is(room.uniqueName('bob'), 'bob');
    assert.is(room.uniqueName('alice'), 'alice_2');
    const long = 'x'.repeat(MAX_NAME_LENGTH);
    assert.is(new Room('empty').uniqueName(long), long);
  } finally {
    await lab.close();
  }
});

test('room.peers() lists members but quiet tool sessions, leaving out the one asked', async () => {
  const lab = await startTestServer();
  try {
    const alice = await lab.connect('alice', { room: 'lab' });
    await lab.connect('bob', { room: 'lab' });
    await lab.connect('cli', { room: 'lab', client: { clientKind: 'tool' } });
    const room = lab.server.rooms.get('lab')!;
    assert.is(room.size, 3);
    assert.equal(room.peers().map((peer) => peer.name), ['alice', 'bob']);
    assert.equal(room.peers(lab.session(alice)).map((peer) => peer.name), ['bob']);
    assert.is(room.findByName('bob')?.name, 'bob');
  } finally {
    await lab.close();
  }
});

test('room.sendFrame() sends to every member but `except`, only to those `filter` accepts, and counts them', async () => {
  const lab = await startTestServer();
  try {
    const [alice, bob, carol] = [await lab.connect('alice'), await lab.connect('bob'), await lab.connect('carol')];
    const room = lab.server.rooms.get('default')!;
    const frame = encodeJsonFrame(FrameType.PEER_JOINED, { id: 'ghost', name: 'ghost' });
    const sent = room.sendFrame(frame, { except: lab.session(alice), filter: (session) => session.name !== 'carol' });
    assert.is(sent, 1);
    const [joined] = await bob.waitForEvent('peerJoined', (peer) => peer.id === 'ghost');
    assert.is(joined.name, 'ghost');
    assert.is(carol.client.peers.has('ghost'), false, 'carol was filtered out');
    assert.is(alice.client.peers.has('ghost'), false, 'alice was left out');
  } finally {
    await lab.close();
  }
});

test('room.remove() forgets a member and frees its name', async () => {
  const lab = await startTestServer();
  try {
    const bob = await lab.connect('bob', { room: 'lab' });
    const room = lab.server.rooms.get('lab')!;
    const session = lab.session(bob);
    room.remove(session);
    assert.is(room.get(session.id), undefined);
    assert.is(room.uniqueName('bob'), 'bob');
    room.remove(session);
    assert.is(room.size, 0, 'removing twice changes nothing');
  } finally {
    await lab.close();
  }
});

test.run();
