import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LinkProbe, PROBE_INTERVAL_MS } from '../../core/link-probe.js';

test('probe() sends only when bytes were written since the last one, at most every PROBE_INTERVAL_MS', () => {
  const probe = new LinkProbe();
  assert.ok(probe.probe(0, 100));
  assert.is(probe.probe(PROBE_INTERVAL_MS / 2, 200), undefined, 'too soon');
  assert.is(probe.probe(PROBE_INTERVAL_MS, 100), undefined, 'nothing new written');
  assert.ok(probe.probe(PROBE_INTERVAL_MS, 300));
});

test('pong() measures the queueing delay over the smallest round trip, and the delivery rate between answers', () => {
  const probe = new LinkProbe();
  const first = probe.probe(0, 1000)!;
  assert.ok(probe.pong(first, 2));
  assert.is(probe.queueDelayMs(2), 0);
  const second = probe.probe(1000, 101_000)!;
  // 100 000 bytes in (1102 - 2) ms: the client read them at about 727 kbit/s; this round trip took 102 ms.
  assert.ok(probe.pong(second, 1102));
  assert.is(probe.queueDelayMs(1102), 100);
  assert.is(Math.round(probe.deliveryBps!), Math.round((100_000 * 8 * 1000) / 1100));
});

test('an unanswered probe counts as at least as old as it is, once the client has answered one', () => {
  const probe = new LinkProbe();
  probe.probe(0, 10);
  assert.is(probe.queueDelayMs(5000), 0, 'a client that never answers looks uncongested');
  const silent = new LinkProbe();
  silent.pong(silent.probe(0, 10)!, 1);
  silent.probe(1000, 20);
  assert.is(silent.queueDelayMs(1800), 799);
});

test('pong() ignores PONGs that answer no probe: other payloads, unknown or repeated ids', () => {
  const probe = new LinkProbe();
  const payload = probe.probe(0, 10)!;
  assert.not.ok(probe.pong(new Uint8Array(8), 1), 'a heartbeat PONG');
  const forged = payload.slice();
  forged[4] ^= 0xff;
  assert.not.ok(probe.pong(forged, 1));
  assert.ok(probe.pong(payload, 1));
  assert.not.ok(probe.pong(payload, 2), 'answered already');
});

test.run();
