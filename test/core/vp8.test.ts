import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { vp8FrameKind, vp8KeyframeSize } from '../../core/vp8.js';
import { vp8Delta, vp8Keyframe } from '../helpers/vp8.js';

test('vp8FrameKind() reads the frame tag and a keyframe\'s start code', () => {
  assert.is(vp8FrameKind(vp8Keyframe(0)), 'keyframe');
  assert.is(vp8FrameKind(vp8Delta(0)), 'delta');
  assert.is(vp8FrameKind(new Uint8Array([0, 0])), 'malformed', 'shorter than a frame tag');
  assert.is(vp8FrameKind(vp8Keyframe(0).subarray(0, 9)), 'malformed', 'a keyframe without its sizes');
  const noStartCode = vp8Keyframe(0);
  noStartCode[4] = 0;
  assert.is(vp8FrameKind(noStartCode), 'malformed');
});

test('vp8KeyframeSize() gives a keyframe\'s picture size, nothing for a delta', () => {
  assert.equal(vp8KeyframeSize(vp8Keyframe(0)), { width: 640, height: 480 });
  assert.is(vp8KeyframeSize(vp8Delta(0)), undefined);
});

test.run();
