import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeMediaFrame, encodeMediaFrame, MediaCodec, MediaStreamWriter, withSender, type MediaFrame } from '../../core/media.js';

const frame: MediaFrame = {
  codec: MediaCodec.JPEG,
  keyframe: true,
  layer: 0,
  switchUp: true,
  baseIndex: 5,
  seq: 0xfffffffe,
  captureMs: 1763800000123.5,
  sender: 'abc',
  data: new Uint8Array([0xff, 0xd8, 1, 2, 3]),
};

test('decodeMediaFrame(encodeMediaFrame(x)) gives x back', () => {
  const decoded = decodeMediaFrame(encodeMediaFrame(frame));
  assert.ok(decoded.ok);
  if (!decoded.ok) return;
  assert.equal({ ...decoded.frame, data: [...decoded.frame.data] }, { ...frame, data: [...frame.data] });
});

test('withSender() rewrites the sender and keeps everything else', () => {
  const decoded = decodeMediaFrame(encodeMediaFrame({ ...frame, sender: '' }));
  assert.ok(decoded.ok);
  if (!decoded.ok) return;
  const relayed = decodeMediaFrame(withSender(decoded.frame, 'session-1'));
  assert.ok(relayed.ok);
  if (!relayed.ok) return;
  assert.is(relayed.frame.sender, 'session-1');
  assert.is(relayed.frame.seq, frame.seq);
  assert.equal([...relayed.frame.data], [...frame.data]);
});

test('malformed frames come back as problems, never as exceptions', () => {
  const good = encodeMediaFrame(frame);
  assert.equal(decodeMediaFrame(good.subarray(0, 10)), { ok: false, problem: 'short-header' });
  assert.equal(decodeMediaFrame(good.subarray(0, 17)), { ok: false, problem: 'short-header' });
  const badVersion = good.slice();
  badVersion[0] = 9;
  assert.equal(decodeMediaFrame(badVersion), { ok: false, problem: 'bad-version' });
  const badCodec = good.slice();
  badCodec[2] = 200;
  assert.equal(decodeMediaFrame(badCodec), { ok: false, problem: 'unknown-codec' });
  const badSender = good.slice();
  badSender[16] = 0xff;
  assert.equal(decodeMediaFrame(badSender), { ok: false, problem: 'bad-sender' });
  for (let i = 0; i < 2000; i++) {
    const random = new Uint8Array(Math.floor(Math.random() * 64)).map(() => Math.floor(Math.random() * 256));
    decodeMediaFrame(random);
  }
});

test('MediaStreamWriter numbers its frames from 0, leaves the sender empty and keeps given fields', () => {
  const stream = new MediaStreamWriter(MediaCodec.OPUS);
  const decode = (bytes: Uint8Array) => {
    const decoded = decodeMediaFrame(bytes);
    if (!decoded.ok) throw new Error(decoded.problem);
    return decoded.frame;
  };
  const first = decode(stream.frame(new Uint8Array([1])));
  const second = decode(stream.frame(new Uint8Array([2]), { captureMs: 42, keyframe: false, codec: MediaCodec.PCM_S16LE }));
  assert.equal([first.seq, first.codec, first.keyframe, first.sender], [0, MediaCodec.OPUS, true, '']);
  assert.equal([second.seq, second.codec, second.keyframe, second.captureMs], [1, MediaCodec.PCM_S16LE, false, 42]);
});

test('the flags byte carries the layer, the switch-up point and the base-layer index; a frame without them reads as base layer', () => {
  const bytes = encodeMediaFrame({ ...frame, keyframe: false, layer: 2, switchUp: true, baseIndex: 13 });
  assert.is(bytes[1], 0b1101_1_10_0);
  const decoded = decodeMediaFrame(bytes);
  assert.ok(decoded.ok && decoded.frame.layer === 2 && decoded.frame.switchUp && decoded.frame.baseIndex === 13 && !decoded.frame.keyframe);
  // What an older client sends: only the keyframe bit.
  const old = encodeMediaFrame({ codec: MediaCodec.JPEG, keyframe: true, seq: 1, captureMs: 0, sender: '', data: new Uint8Array(1) });
  assert.is(old[1], 1);
  const read = decodeMediaFrame(old);
  assert.ok(read.ok && read.frame.layer === 0 && read.frame.baseIndex === 0);
});

test('decodeMediaFrame() refuses layer 3 and a keyframe above layer 0 as bad-layer', () => {
  const layerThree = encodeMediaFrame({ ...frame, keyframe: false });
  layerThree[1] = 3 << 1;
  assert.equal(decodeMediaFrame(layerThree), { ok: false, problem: 'bad-layer' });
  const keyOnOne = encodeMediaFrame(frame);
  keyOnOne[1] = 1 | (1 << 1);
  assert.equal(decodeMediaFrame(keyOnOne), { ok: false, problem: 'bad-layer' });
});

test('MediaStreamWriter counts base-layer frames in the base-layer index (mod 16); higher layers carry the last one', () => {
  const stream = new MediaStreamWriter(MediaCodec.VP8);
  const read = (options: { keyframe: boolean; layer?: number }) => {
    const decoded = decodeMediaFrame(stream.frame(new Uint8Array(1), options));
    if (!decoded.ok) throw new Error(decoded.problem);
    return decoded.frame;
  };
  const first = read({ keyframe: true });
  assert.equal([first.baseIndex, first.layer, first.switchUp], [0, 0, true]);
  assert.equal([read({ keyframe: false, layer: 2 }).baseIndex, read({ keyframe: false, layer: 1 }).baseIndex], [0, 0]);
  assert.is(read({ keyframe: false, layer: 0 }).baseIndex, 1);
  for (let i = 0; i < 15; i++) read({ keyframe: false });
  assert.is(read({ keyframe: false }).baseIndex, 1, 'wrapped at 16');
  assert.throws(() => stream.frame(new Uint8Array(1), { keyframe: false, layer: 3 }), RangeError);
  assert.is(read({ keyframe: true, layer: 2 }).layer, 0, 'a keyframe is always base layer');
});

test.run();
