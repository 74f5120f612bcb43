import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeFrame, decodeSingleFrame } from '../../core/frame.js';
import { FrameDecoder } from '../../core/frame-decoder.js';

const bytes = (...values: number[]) => new Uint8Array(values);

test('decoder.push() reassembles frames split at every byte boundary', () => {
  const stream = new Uint8Array([...encodeFrame(0x10, bytes(1, 2, 3)), ...encodeFrame(0x11), ...encodeFrame(0x12, bytes(9))]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const decoder = new FrameDecoder();
    const frames = [...decoder.push(stream.subarray(0, cut)).frames, ...decoder.push(stream.subarray(cut)).frames];
    assert.equal(frames.map((f) => f.type), [0x10, 0x11, 0x12], `cut at ${cut}`);
    assert.equal([...frames[0].payload], [1, 2, 3]);
    assert.is(frames[1].payload.length, 0);
    assert.equal([...frames[2].payload], [9]);
    assert.is(decoder.pendingBytes, 0);
  }
});

test('decoder.push() handles one byte at a time', () => {
  const stream = encodeFrame(0x20, new Uint8Array(300).fill(7));
  const decoder = new FrameDecoder();
  const frames = [];
  for (const byte of stream) frames.push(...decoder.push(bytes(byte)).frames);
  assert.is(frames.length, 1);
  assert.is(frames[0].payload.length, 300);
  assert.ok(frames[0].payload.every((b) => b === 7));
});

test('decoder.push() returns FRAME_TOO_LARGE from the header alone, before the payload arrives', () => {
  const decoder = new FrameDecoder({ maxPayload: 100 });
  const header = encodeFrame(0x10, new Uint8Array(101)).subarray(0, 5);
  const { frames, error } = decoder.push(header);
  assert.is(frames.length, 0);
  assert.is(error?.code, 'FRAME_TOO_LARGE');
  assert.ok(error?.fatal);
  assert.is(decoder.push(encodeFrame(0x10)).frames.length, 0, 'nothing is decoded after a fatal error');
});

test('decoder.push() accepts a payload of exactly maxPayload bytes', () => {
  const decoder = new FrameDecoder({ maxPayload: 100 });
  const { frames, error } = decoder.push(encodeFrame(0x10, new Uint8Array(100)));
  assert.is(error, undefined);
  assert.is(frames[0].payload.length, 100);
});

test('decoder.push() returns the frames before a too-large header, then the error', () => {
  const decoder = new FrameDecoder({ maxPayload: 10 });
  const stream = new Uint8Array([...encodeFrame(0x10, bytes(1)), 0x10, 0xff, 0xff, 0xff, 0xff]);
  const { frames, error } = decoder.push(stream);
  assert.is(frames.length, 1);
  assert.is(error?.code, 'FRAME_TOO_LARGE');
});

test('decoder.end() reports FRAME_TRUNCATED when a partial frame is left', () => {
  const decoder = new FrameDecoder();
  decoder.push(encodeFrame(0x10, bytes(1, 2, 3)).subarray(0, 6));
  assert.is(decoder.end()?.code, 'FRAME_TRUNCATED');
  const clean = new FrameDecoder();
  clean.push(encodeFrame(0x10, bytes(1)));
  assert.is(clean.end(), undefined);
});

test('decodeSingleFrame() refuses short messages and lengths that disagree with the size', () => {
  assert.is(decodeSingleFrame(bytes(1, 0, 0)), undefined);
  assert.is(decodeSingleFrame(bytes(1, 0, 0, 0, 2, 9)), undefined);
  assert.is(decodeSingleFrame(bytes(1, 0, 0, 0, 0, 9)), undefined);
  assert.equal([...decodeSingleFrame(bytes(1, 0, 0, 0, 1, 9))!.payload], [9]);
});

test.run();
