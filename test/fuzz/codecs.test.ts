/**
 * Property-based tests (fast-check) of every decoder that reads bytes from the network: frames (stream and
 * single), the media header, JSON payloads, HELLO, sealed UDP datagrams, the replay window and access
 * tokens. decode(encode(x)) = x, and arbitrary bytes never throw out of a decoder.
 */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabError } from '../../core/errors.js';
import { decodeSingleFrame, encodeFrame } from '../../core/frame.js';
import { FrameDecoder } from '../../core/frame-decoder.js';
import { parseHello } from '../../core/handshake.js';
import { decodeJsonObject } from '../../core/json.js';
import { decodeMediaFrame, encodeMediaFrame, MediaCodec } from '../../core/media.js';
import { MediaSealer, openSealed, readSealedHeader, ReplayWindow } from '../../core/media-crypto.js';
import { signToken, verifyToken } from '../../plugins/auth/token.js';
import { runs } from './runs.js';

const frameArb = fc.record({ type: fc.integer({ min: 0, max: 255 }), payload: fc.uint8Array({ maxLength: 2048 }) });

test('FrameDecoder: any frames, split at any points, decode to themselves', () => {
  fc.assert(fc.property(fc.array(frameArb, { maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 4096 }), { maxLength: 30 }), (frames, cuts) => {
    const bytes = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.payload)));
    const decoder = new FrameDecoder({ maxPayload: 4096 });
    const out: Array<{ type: number; payload: Uint8Array }> = [];
    let at = 0;
    for (const cut of [...cuts, bytes.length]) {
      const { frames: got, error } = decoder.push(bytes.subarray(at, Math.min(bytes.length, at + cut)));
      assert.is(error, undefined);
      out.push(...got.map((g) => ({ type: g.type, payload: Uint8Array.from(g.payload) })));
      at = Math.min(bytes.length, at + cut);
    }
    if (at < bytes.length) out.push(...decoder.push(bytes.subarray(at)).frames);
    assert.equal(out.map((f) => [f.type, Buffer.from(f.payload).toString('hex')]), frames.map((f) => [f.type, Buffer.from(f.payload).toString('hex')]));
    assert.is(decoder.end(), undefined);
  }), runs());
});

test('FrameDecoder and decodeSingleFrame: arbitrary bytes never throw, and nothing over maxPayload comes out', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 10 }), (chunks) => {
    const decoder = new FrameDecoder({ maxPayload: 256 });
    for (const chunk of chunks) {
      const { frames } = decoder.push(chunk);
      for (const frame of frames) assert.ok(frame.payload.length <= 256);
      const single = decodeSingleFrame(chunk);
      if (single) assert.is(single.payload.length, chunk.length - 5);
    }
    const end = decoder.end();
    assert.ok(end === undefined || end instanceof ConfabError);
  }), runs());
});

test('media header: decode(encode(frame)) = frame; arbitrary bytes decode or name a problem, never throw', () => {
  const codec = fc.constantFrom(...Object.values(MediaCodec));
  const frame = fc.record({
    codec, keyframe: fc.boolean(), layer: fc.integer({ min: 0, max: 2 }), switchUp: fc.boolean(), baseIndex: fc.integer({ min: 0, max: 15 }),
    seq: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    captureMs: fc.double({ noNaN: true }), sender: fc.string({ maxLength: 60 }), data: fc.uint8Array({ maxLength: 512 }),
  }).map((f) => (f.keyframe ? { ...f, layer: 0 } : f));
  fc.assert(fc.property(frame, (f) => {
    const decoded = decodeMediaFrame(encodeMediaFrame(f));
    assert.ok(decoded.ok);
    if (!decoded.ok) return;
    assert.equal({ ...decoded.frame, data: Buffer.from(decoded.frame.data).toString('hex') }, { ...f, captureMs: Object.is(f.captureMs, -0) ? -0 : f.captureMs, data: Buffer.from(f.data).toString('hex') });
  }), runs());
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
    const decoded = decodeMediaFrame(bytes);
    if (decoded.ok) assert.ok(decoded.frame.data.length <= bytes.length);
    else assert.type(decoded.problem, 'string');
  }), runs());
});

test('decodeJsonObject and parseHello: arbitrary bytes and JSON values never throw', () => {
  const texts = fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.json({ maxDepth: 6 }).map((t) => new TextEncoder().encode(t)),
    fc.jsonValue({ maxDepth: 4 }).map((v) => new TextEncoder().encode(JSON.stringify({ v: 1, name: 'x', ...(typeof v === 'object' && v !== null && !Array.isArray(v) ? v : { extra: v }) }))));
  fc.assert(fc.property(texts, fc.integer({ min: 1, max: 10 }), (bytes, depth) => {
    const value = decodeJsonObject(bytes, depth);
    assert.ok(value instanceof ConfabError || (typeof value === 'object' && !Array.isArray(value)));
    const hello = parseHello(bytes);
    assert.ok(hello instanceof ConfabError || (typeof hello.name === 'string' && typeof hello.room === 'string'));
  }), runs());
});

test('sealed datagrams: open(seal(frame)) = frame; arbitrary or bit-flipped bytes never open and never throw', () => {
  const key = Buffer.alloc(32, 3);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 1500 }), fc.string({ minLength: 1, maxLength: 40, unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_') }), fc.nat(), (frame, token, flip) => {
    const sealer = new MediaSealer(key, token, 'to-server');
    const sealed = sealer.seal(frame);
    const header = readSealedHeader(sealed)!;
    assert.is(header.token, token);
    assert.is(header.seq, 1);
    assert.equal(Buffer.from(openSealed(key, sealed, header, 'to-server')!).toString('hex'), Buffer.from(frame).toString('hex'));
    assert.is(openSealed(key, sealed, header, 'to-client'), undefined, 'the other direction does not open it');
    const flipped = Buffer.from(sealed);
    flipped[flip % flipped.length]! ^= 1 << (flip % 8);
    const flippedHeader = readSealedHeader(flipped);
    if (flippedHeader) assert.is(openSealed(key, flipped, flippedHeader, 'to-server'), undefined);
  }), runs());
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
    const header = readSealedHeader(bytes);
    if (header) assert.is(openSealed(key, bytes, header, 'to-server'), undefined);
  }), runs());
});

test('ReplayWindow accepts each sequence number at most once and nothing older than its size, like a model', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 300 }), (seqs) => {
    const window = new ReplayWindow();
    const seen = new Set<number>();
    let highest = 0;
    for (const seq of seqs) {
      const expected = !seen.has(seq) && seq > highest - ReplayWindow.SIZE;
      assert.is(window.fresh(seq), expected, `seq ${seq} after highest ${highest}`);
      if (expected) {
        window.mark(seq);
        seen.add(seq);
        highest = Math.max(highest, seq);
      }
    }
  }), runs());
});

test('verifyToken: a signed token verifies to its claims; arbitrary strings never throw and never verify', async () => {
  const secret = Buffer.alloc(32, 5);
  await fc.assert(fc.asyncProperty(fc.string({ minLength: 1, maxLength: 64 }), fc.subarray(['join', 'chat', 'files', 'moderate'] as const), async (room, grants) => {
    const claims = await verifyToken(await signToken(secret, { room, grants: ['join', ...grants], ttlSeconds: 60 }), secret, { maxTtlSeconds: 60 });
    assert.not.ok(claims instanceof ConfabError);
    if (!(claims instanceof ConfabError)) assert.is(claims.room, room);
  }), runs());
  await fc.assert(fc.asyncProperty(fc.oneof(fc.string({ maxLength: 300 }), fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map((parts) => parts.join('.'))), async (text) => {
    assert.ok(await verifyToken(text, secret, { maxTtlSeconds: 60 }) instanceof ConfabError);
  }), runs());
});

test.run();
