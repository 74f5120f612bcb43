import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ResumeBuffer } from '../../core/resume-buffer.js';

const frame = (n: number, size = 1) => new Uint8Array(size).fill(n);

test('buffer.framesAfter() returns the frames numbered after what the client received', () => {
  const buffer = new ResumeBuffer(10, 1000);
  for (let i = 1; i <= 5; i++) assert.is(buffer.push(frame(i)), i);
  assert.equal(buffer.framesAfter(3)!.map((f) => f[0]), [4, 5]);
  assert.equal(buffer.framesAfter(5), []);
  assert.equal(buffer.framesAfter(0)!.length, 5);
});

test('buffer.framesAfter() is undefined once a missed frame fell out', () => {
  const buffer = new ResumeBuffer(3, 1000);
  for (let i = 1; i <= 6; i++) buffer.push(frame(i));
  assert.is(buffer.firstSeq, 4);
  assert.is(buffer.framesAfter(2), undefined);
  assert.equal(buffer.framesAfter(3)!.map((f) => f[0]), [4, 5, 6]);
});

test('buffer.push() keeps within the byte bound', () => {
  const buffer = new ResumeBuffer(100, 10);
  for (let i = 1; i <= 5; i++) buffer.push(frame(i, 4));
  assert.equal(buffer.framesAfter(3)!.map((f) => f[0]), [4, 5]);
  assert.is(buffer.framesAfter(2), undefined);
});

test('buffer.framesAfter() refuses a count ahead of what was sent, or not a whole number', () => {
  const buffer = new ResumeBuffer(10, 1000);
  buffer.push(frame(1));
  assert.is(buffer.framesAfter(2), undefined);
  assert.is(buffer.framesAfter(-1), undefined);
  assert.is(buffer.framesAfter(0.5), undefined);
});

test('buffer stays correct across many pushes (compaction)', () => {
  const buffer = new ResumeBuffer(50, 1_000_000);
  for (let i = 1; i <= 10_000; i++) buffer.push(frame(i % 256));
  assert.is(buffer.lastSeq, 10_000);
  assert.is(buffer.firstSeq, 9_951);
  assert.equal(buffer.framesAfter(9_998)!.map((f) => f[0]), [9_999 % 256, 10_000 % 256]);
});

test('with maxFrames 0 nothing is kept: only a client that missed nothing can resume', () => {
  const buffer = new ResumeBuffer(0, 1000);
  buffer.push(frame(1));
  buffer.push(frame(2));
  assert.equal(buffer.framesAfter(2), []);
  assert.is(buffer.framesAfter(1), undefined);
});

test('a frame larger than maxBytes is still kept alone, the newest', () => {
  const buffer = new ResumeBuffer(10, 4);
  buffer.push(frame(1, 2));
  buffer.push(frame(2, 8));
  assert.equal(buffer.framesAfter(1)!.map((f) => f[0]), [2]);
  assert.is(buffer.framesAfter(0), undefined);
});

test.run();
