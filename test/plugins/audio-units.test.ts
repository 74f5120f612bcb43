import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Concealer } from '../../plugins/audio-mix/concealment.js';
import { JitterBuffer } from '../../plugins/audio-mix/jitter-buffer.js';
import { toDbfs } from '../../plugins/audio-mix/level-meter.js';
import { MixBus, softLimit } from '../../plugins/audio-mix/mixer.js';
import { FRAME_SAMPLES } from '../../plugins/audio-mix/protocol.js';
import { toneFrame } from './audio-signal.js';

/** Pops until a frame or a gap comes (skipping the priming ticks), at most `limit` times. */
function popNext<T>(buffer: JitterBuffer<T>, limit = 20) {
  for (let i = 0; i < limit; i++) {
    const popped = buffer.pop();
    if (popped) return popped;
  }
  return undefined;
}

test('JitterBuffer.pop() gives frames in sequence order whatever the arrival order', () => {
  const buffer = new JitterBuffer<number>({ initialDepth: 3 });
  for (const [i, seq] of [2, 0, 1, 4, 3].entries()) assert.is(buffer.push(seq, seq, i * 20), 'ok');
  const out = [];
  for (let i = 0; i < 5; i++) {
    const popped = popNext(buffer);
    out.push(popped?.kind === 'frame' ? popped.value : 'gap');
  }
  assert.equal(out, [0, 1, 2, 3, 4]);
});

test('JitterBuffer.push() drops late frames and duplicates, and a late frame deepens the target', () => {
  const buffer = new JitterBuffer<number>({ initialDepth: 1 });
  buffer.push(0, 0, 0);
  buffer.push(1, 1, 20);
  assert.equal(popNext(buffer), { kind: 'frame', value: 0 });
  assert.is(buffer.push(1, 1, 21), 'duplicate');
  assert.is(buffer.push(0, 0, 22), 'late');
  buffer.push(5, 5, 100);
  const before = buffer.target;
  assert.is(buffer.push(0, 0, 101), 'late');
  assert.is(buffer.target, before + 1, 'a late frame raises the target');
});

test('JitterBuffer conceals a lost frame and moves on; never holds more than maxDepth; wraps at 2^32', () => {
  const buffer = new JitterBuffer<number>({ initialDepth: 2, maxDepth: 10 });
  const start = 2 ** 32 - 3;
  for (let i = 0; i < 6; i++) if (i !== 2) buffer.push((start + i) >>> 0, i, i * 20);
  const out = [];
  for (let i = 0; i < 6; i++) {
    const popped = popNext(buffer);
    out.push(popped?.kind === 'frame' ? popped.value : 'gap');
  }
  assert.equal(out, [0, 1, 'gap', 3, 4, 5]);
  const deep = new JitterBuffer<number>({ maxDepth: 10 });
  for (let seq = 0; seq < 40; seq++) deep.push(seq, seq, 0);
  assert.ok(deep.depth <= 10, `depth ${deep.depth}`);
  assert.equal(popNext(deep), { kind: 'frame', value: 30 }, 'the oldest frames were skipped');
  deep.push(2 ** 31 + 7, 1, 0);
  assert.ok(deep.depth <= 10, 'a hostile jump in seq does not loop or grow the buffer');
});

test('JitterBuffer goes idle after a few empty ticks and treats a straggler as late', () => {
  const buffer = new JitterBuffer<number>({ initialDepth: 1, idleAfter: 5 });
  buffer.push(10, 10, 0);
  assert.equal(popNext(buffer), { kind: 'frame', value: 10 });
  for (let i = 0; i < 5; i++) buffer.pop();
  assert.ok(buffer.idle);
  assert.is(buffer.push(9, 9, 200), 'late');
  assert.is(buffer.push(11, 11, 220), 'ok');
});

test('MixBus.mixMinus() is the total minus the listener\'s own frame (equal to summing the others)', () => {
  const frames = [toneFrame(300, 0, 3000), toneFrame(500, 0, 3000), toneFrame(700, 0, 3000)];
  const bus = new MixBus();
  bus.clear();
  for (const frame of frames) bus.add(frame);
  const out = new Int16Array(FRAME_SAMPLES);
  bus.mixMinus(frames[1], out);
  for (let i = 0; i < FRAME_SAMPLES; i++) assert.is(out[i], frames[0]![i]! + frames[2]![i]!);
});

test('softLimit() passes quiet samples, bends loud ones smoothly and never leaves the 16-bit range', () => {
  assert.is(softLimit(1000), 1000);
  assert.is(softLimit(-24_576), -24_576);
  assert.ok(softLimit(30_000) < 30_000 && softLimit(30_000) > 24_576);
  assert.ok(softLimit(10_000_000) <= 32_767 && softLimit(-10_000_000) >= -32_767);
  assert.ok(softLimit(24_577) - softLimit(24_576) <= 1, 'no kink at the knee');
  for (let x = 20_000; x < 200_000; x += 997) assert.ok(softLimit(x + 1) >= softLimit(x), 'monotonic');
});

test('Concealer continues a tone in phase (no click) and fades it to silence', () => {
  const concealer = new Concealer();
  const real = toneFrame(440, 0);
  concealer.accept(real.slice());
  const invented = new Int16Array(FRAME_SAMPLES);
  assert.ok(concealer.conceal(invented));
  const truth = toneFrame(440, 1);
  // The jump from the last real sample into the concealment is no bigger than the tone's own steps.
  const maxStep = 2 * Math.PI * 440 / 48_000 * 8000;
  assert.ok(Math.abs(invented[0]! - real[FRAME_SAMPLES - 1]!) <= maxStep * 1.2, `step ${invented[0]! - real[FRAME_SAMPLES - 1]!}`);
  // It follows the real continuation closely at first (before the fade bites).
  for (let i = 0; i < 100; i++) assert.ok(Math.abs(invented[i]! - truth[i]!) < 1200, `sample ${i}: ${invented[i]} vs ${truth[i]}`);
  let frames = 1;
  while (concealer.conceal(invented)) frames++;
  assert.is(frames, 4, 'faded out over 80 ms');
  assert.ok(Math.abs(invented[FRAME_SAMPLES - 1]!) < 200, 'it ends near silence');
});

test('toDbfs() reads a full-scale square as 0 dBFS and silence as −100', () => {
  assert.is(toDbfs(32768 * 32768), 0);
  assert.is(toDbfs(0), -100);
  assert.is(toDbfs(5657 * 5657), -15);
});

test.run();
