import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MediaStreamReader } from '../../core/media-reader.js';
import { MediaCodec, type MediaFrame } from '../../core/media.js';
import { l1t3 } from '../helpers/vp8.js';

/** Frame `index` of an L1T3 VP8 stream whose keyframe is frame 0. */
const frame = (index: number): MediaFrame => ({
  codec: MediaCodec.VP8, keyframe: index === 0, ...l1t3(index), seq: index, captureMs: 0, sender: 's', data: new Uint8Array(0),
});

test('MediaStreamReader.accept() refuses deltas until the first keyframe, and says it wants one to join', () => {
  const reader = new MediaStreamReader();
  assert.is(reader.wantsKeyframe, 'join');
  assert.not.ok(reader.accept(frame(5)));
  assert.ok(reader.accept(frame(0)));
  assert.is(reader.wantsKeyframe, undefined);
  assert.ok([1, 2, 3, 4, 5].every((i) => reader.accept(frame(i))));
});

test('MediaStreamReader.accept() takes a stream a relay thinned to base layer, or to layers 0 and 1', () => {
  const base = new MediaStreamReader();
  assert.ok([0, 4, 8, 12, 16, 20].every((i) => base.accept(frame(i))));
  const two = new MediaStreamReader();
  assert.ok([0, 2, 4, 6, 8, 10].every((i) => two.accept(frame(i))));
});

test('MediaStreamReader.accept() sees a lost base-layer frame as a gap, in the next base or higher-layer frame', () => {
  const reader = new MediaStreamReader();
  assert.ok(reader.accept(frame(0)) && reader.accept(frame(1)));
  assert.not.ok(reader.accept(frame(8)), 'base frame 4 is missing');
  assert.is(reader.wantsKeyframe, 'gap');
  const other = new MediaStreamReader();
  assert.ok(other.accept(frame(0)));
  assert.not.ok(other.accept(frame(5)), 'a layer-2 frame that follows base frame 4, which never came');
  assert.not.ok(other.accept(frame(8)), 'and nothing until a keyframe');
  assert.ok(other.accept(frame(0)));
});

test('MediaStreamReader.decodeFailed() waits for a keyframe; JPEG streams are always accepted', () => {
  const reader = new MediaStreamReader();
  reader.accept(frame(0));
  reader.decodeFailed();
  assert.is(reader.wantsKeyframe, 'decode-error');
  assert.not.ok(reader.accept(frame(1)));
  const jpeg = new MediaStreamReader();
  assert.ok(jpeg.accept({ ...frame(0), codec: MediaCodec.JPEG, seq: 40 }));
});

test.run();
