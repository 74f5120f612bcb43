import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ForwardedStream, LINK_CLIMB_MS, ReceiverLink } from '../../core/media-forwarder.js';
import { l1t3 } from '../helpers/vp8.js';

/** Frame `index` of an L1T3 stream that starts with a keyframe. */
const frame = (index: number) => ({ keyframe: index === 0, ...l1t3(index) });

/** The indexes of frames 0..count-1 that `decide` sends, with `allowed(index)` and `blocked(index)`. */
function run(stream: ForwardedStream, count: number, allowed: (i: number) => number, blocked: (i: number) => boolean = () => false): number[] {
  const sent: number[] = [];
  for (let i = 0; i < count; i++) if (stream.decide(frame(i), allowed(i), blocked(i)) === 'send') sent.push(i);
  return sent;
}

test('ForwardedStream.decide() sends nothing before a keyframe', () => {
  const stream = new ForwardedStream();
  assert.is(stream.decide({ keyframe: false, layer: 0, switchUp: true }, 2, false), 'wait-keyframe');
  assert.ok(stream.waitingForKeyframe);
  assert.is(stream.decide({ keyframe: true, layer: 0, switchUp: true }, 2, false), 'send');
  assert.not.ok(stream.waitingForKeyframe);
});

test('ForwardedStream.decide() at layer 0 sends every 4th frame, at layer 1 every 2nd, at layer 2 all', () => {
  assert.equal(run(new ForwardedStream(), 12, () => 0), [0, 4, 8]);
  assert.equal(run(new ForwardedStream(), 12, () => 1), [0, 2, 4, 6, 8, 10]);
  assert.equal(run(new ForwardedStream(), 12, () => 2), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
});

test('ForwardedStream.decide() climbs from layer 0 to 2 only at switch-up points', () => {
  // Allowed 0 until frame 6, then 2: frame 6 (layer 1) is a switch-up point; frame 7 (layer 2, not one) waits
  // for frame 9, the next layer-2 switch-up point.
  const sent = run(new ForwardedStream(), 16, (i) => (i < 6 ? 0 : 2));
  assert.equal(sent, [0, 4, 6, 8, 9, 10, 11, 12, 13, 14, 15]);
});

test('ForwardedStream.decide() steps down at once: higher layers are left out from the next frame', () => {
  assert.equal(run(new ForwardedStream(), 12, (i) => (i < 5 ? 2 : 0)), [0, 1, 2, 3, 4, 8]);
});

test('ForwardedStream.decide() on a blocked link: a lost layer-1 frame stops layer 2 until a switch-up; a lost base frame waits for a keyframe', () => {
  const stream = new ForwardedStream();
  // Frame 2 (layer 1) is lost: frame 3 (layer 2, references it) is not sent; frame 5 (switch-up) is.
  assert.equal(run(stream, 8, () => 2, (i) => i === 2), [0, 1, 4, 5, 6, 7]);
  assert.is(stream.decide(frame(8), 2, true), 'congested', 'a lost base-layer frame');
  assert.ok(stream.waitingForKeyframe);
  assert.is(stream.decide(frame(9), 2, false), 'wait-keyframe');
  assert.is(stream.decide({ keyframe: true, layer: 0, switchUp: true }, 2, false), 'send');
});

test('ForwardedStream.resumeAtBase() continues from the base layer; restart() waits for a keyframe', () => {
  const stream = new ForwardedStream();
  stream.resumeAtBase();
  assert.is(stream.decide(frame(3), 2, false), 'layer', 'a layer-2 frame that is no switch-up point');
  assert.is(stream.decide(frame(4), 2, false), 'send');
  assert.is(stream.decide(frame(5), 2, false), 'send');
  stream.restart();
  assert.is(stream.decide(frame(8), 2, false), 'wait-keyframe');
});

test('ReceiverLink.update() steps down as the queue grows and climbs one layer per calm LINK_CLIMB_MS', () => {
  const link = new ReceiverLink();
  const highWater = 1000;
  assert.is(link.update(100, 0, highWater, 0), 0);
  assert.is(link.cap, 2);
  assert.is(link.update(300, 0, highWater, 10), -1);
  assert.is(link.cap, 1);
  assert.is(link.update(600, 0, highWater, 20), -1);
  assert.is(link.cap, 0);
  assert.is(link.update(10, 0, highWater, 30), 0, 'calm, but not for long yet');
  assert.is(link.update(10, 0, highWater, 30 + LINK_CLIMB_MS), 1);
  assert.is(link.cap, 1);
  assert.is(link.update(100, 0, highWater, 40 + LINK_CLIMB_MS), 0, 'not calm: the clock restarts');
  assert.is(link.update(10, 0, highWater, 50 + LINK_CLIMB_MS), 0);
  assert.is(link.update(10, 0, highWater, 50 + 2 * LINK_CLIMB_MS), 1);
  assert.is(link.cap, 2);
});

test('ReceiverLink.takeWindow() reports what a congested link drained, per second, and Infinity for a calm one', () => {
  const link = new ReceiverLink();
  link.windowBytes = 10_000;
  assert.is(link.takeWindow(0, 1000, undefined), Infinity);
  link.update(600, 0, 1000, 0);
  link.windowBytes = 10_000;
  // 10 000 bytes forwarded, the queue grew by 600: 9 400 bytes left in one second.
  assert.is(link.takeWindow(600, 1000, undefined), 9400 * 8);
});

test('ReceiverLink.update() steps down on queueing delay alone (kernel buffers the server cannot see), and needs a calm delay to climb', () => {
  const link = new ReceiverLink();
  assert.is(link.update(0, 150, 1000, 0), -1);
  assert.is(link.cap, 1);
  assert.is(link.update(0, 400, 1000, 10), -1);
  assert.is(link.cap, 0);
  assert.is(link.update(0, 60, 1000, 20), 0);
  assert.is(link.update(0, 60, 1000, 20 + 2 * LINK_CLIMB_MS), 0, 'a delay above calm keeps it down');
  assert.is(link.update(0, 10, 1000, 30 + 2 * LINK_CLIMB_MS), 0);
  assert.is(link.update(0, 10, 1000, 30 + 3 * LINK_CLIMB_MS), 1);
});

test('ReceiverLink.takeWindow() prefers the probe\'s delivery rate while congested', () => {
  const link = new ReceiverLink();
  link.update(0, 400, 1000, 0);
  link.windowBytes = 50_000;
  assert.is(link.takeWindow(0, 1000, 300_000), 300_000);
});

test.run();
