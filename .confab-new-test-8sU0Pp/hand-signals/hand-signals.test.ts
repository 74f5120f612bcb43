import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer } from '../../core/testing.js';
import { handSignalsClient } from './client.js';
import { handSignals } from './server.js';

test('hand-signals: add() changes the room\'s counter for everyone, and a joiner gets it', async () => {
  const lab = await startTestServer({ plugins: [handSignals()] });
  try {
    const alice = await lab.connect('alice', { plugins: { api: handSignalsClient() } });
    const bob = await lab.connect('bob', { plugins: { api: handSignalsClient() } });
    alice.api.add(2);
    await bob.waitForMessage('hand-signals', { op: 'count', value: 2 });
    bob.api.add(-5);
    await alice.waitForMessage('hand-signals', { op: 'count', value: -3 });
    const carol = await lab.connect('carol', { plugins: { api: handSignalsClient() } });
    await carol.waitForMessage('hand-signals', { op: 'count', value: -3 });
    assert.is(carol.api.value, -3);
  } finally {
    await lab.close();
  }
});

test('hand-signals: a bad request gets HAND_SIGNALS_BAD_REQUEST and changes nothing', async () => {
  const lab = await startTestServer({ plugins: [handSignals()] });
  try {
    const alice = await lab.connect('alice', { plugins: { api: handSignalsClient() } });
    alice.api.add(1.5);
    await alice.waitForError('HAND_SIGNALS_BAD_REQUEST');
    alice.api.add(1);
    await alice.waitForMessage('hand-signals', { op: 'count', value: 1 });
  } finally {
    await lab.close();
  }
});

test.run();
