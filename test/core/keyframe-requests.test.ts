import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KeyframeRequestThrottle } from '../../core/keyframe-requests.js';
import type { Session } from '../../core/session.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The throttle only keeps sessions as keys and reads `state`. */
const publisher = (): Session => ({ state: 'active' }) as Session;

test('request() forwards the first request at once and merges the others of the interval into one', async () => {
  const sent: Session[] = [];
  const throttle = new KeyframeRequestThrottle(100, (p) => sent.push(p));
  const alice = publisher();
  assert.is(throttle.request(alice), 'forwarded');
  for (let i = 0; i < 20; i++) assert.is(throttle.request(alice), 'merged');
  assert.is(sent.length, 1);
  await sleep(150);
  assert.is(sent.length, 2, 'one more at the end of the interval');
  await sleep(150);
  assert.is(sent.length, 2);
  throttle.clear();
});

test('keyframeArrived() answers the merged request: none is sent at the end of the interval', async () => {
  const sent: Session[] = [];
  const throttle = new KeyframeRequestThrottle(100, (p) => sent.push(p));
  const alice = publisher();
  throttle.request(alice);
  throttle.request(alice);
  throttle.keyframeArrived(alice);
  await sleep(150);
  assert.is(sent.length, 1);
  throttle.clear();
});

test('publishers are throttled apart; forget() drops a waiting request', async () => {
  const sent: Session[] = [];
  const throttle = new KeyframeRequestThrottle(100, (p) => sent.push(p));
  const [alice, bob] = [publisher(), publisher()];
  assert.is(throttle.request(alice), 'forwarded');
  assert.is(throttle.request(bob), 'forwarded');
  throttle.request(alice);
  throttle.forget(alice);
  await sleep(150);
  assert.equal(sent, [alice, bob]);
  throttle.clear();
});

test.run();
