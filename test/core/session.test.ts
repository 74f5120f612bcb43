import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { definePlugin } from '../../core/config.js';
import type { Session } from '../../core/session.js';
import { startTestServer } from '../../core/testing.js';
import { jsonChannel } from '../../core/channel-def.js';

/** Any message on it ends its sender's session. */
const ENDER = jsonChannel('ender', { parse: (message) => message });

/** A plugin that ends the session of whoever sends it `{"op":"leave"}`, and records `sessionLeft`. */
function ender(left: Array<{ name: string; reason: string }>) {
  return definePlugin({
    name: 'ender',
    channels: [ENDER],
    setup(ctx) {
      ctx.channel(ENDER).onMessage((session: Session) => session.end('kicked'));
      ctx.hooks.sessionLeft.tap('ender', (session, _room, reason) => left.push({ name: session.name, reason }));
    },
  });
}

test('session.end() from a plugin: peers see PEER_LEFT, sessionLeft fires, the registry forgets it, its socket closes', async () => {
  const left: Array<{ name: string; reason: string }> = [];
  const lab = await startTestServer({ plugins: [ender(left)] });
  try {
    const alice = await lab.connect('alice', { client: { reconnect: false } });
    const bob = await lab.connect('bob');
    const aliceId = alice.id;
    const session = lab.session(alice);
    const gone = bob.waitForEvent('peerLeft', (peer) => peer.id === aliceId);
    const closed = alice.waitForEvent('close');
    alice.client.use({ name: 'ender-client', attach: (ctx) => ctx }).send('ender', { op: 'leave' });
    const [peer] = await gone;
    assert.is(peer.reason, 'kicked');
    await closed;
    assert.equal(left, [{ name: 'alice', reason: 'kicked' }]);
    assert.is(lab.server.sessions.has(aliceId), false);
    assert.is(lab.server.rooms.get('default')?.size, 1);
    assert.is(session.state, 'closed');
    session.end('again');
    assert.is(left.length, 1, 'ending it again changes nothing');
  } finally {
    await lab.close();
  }
});

test.run();
