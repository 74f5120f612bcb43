/**
 * Frame encoding: `[type u8][length u32 big-endian][payload]`.
 * Works on Uint8Array so the same code runs in Node and in the browser.
 */
import { FRAME_HEADER_BYTES } from './protocol.js';

/** A decoded frame. `payload` may be a view into a larger buffer: copy it before keeping it long. */
export interface Frame {
  type: number;
  payload: Uint8Array;
}

const textEncoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/**
 * A Buffer on Node (so `ws` and sockets take frames as they are, instead of wrapping them once per
 * recipient of a broadcast), a plain Uint8Array in the browser. Every byte is written before use.
 */
const allocate: (size: number) => Uint8Array =
  typeof Buffer === 'function' ? (size) => Buffer.allocUnsafe(size) : (size) => new Uint8Array(size);

/**
 * Encodes one frame into a new buffer.
 *
 * @example
 *   socket.write(encodeFrame(FrameType.PING));
 */
export function encodeFrame(type: number, payload: Uint8Array = EMPTY): Uint8Array {
  const out = allocate(FRAME_HEADER_BYTES + payload.length);
  out[0] = type;
  new DataView(out.buffer, out.byteOffset, FRAME_HEADER_BYTES).setUint32(1, payload.length);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** Encodes a frame whose payload is `value` as UTF-8 JSON. */
export function encodeJsonFrame(type: number, value: unknown): Uint8Array {
  return encodeFrame(type, textEncoder.encode(JSON.stringify(value)));
}

/**
 * Reads exactly one frame from `bytes` (a WebSocket message or a UDP datagram). Returns undefined when the
 * bytes are not one whole frame: shorter than a header, or a length field that disagrees with the size.
 */
export function decodeSingleFrame(bytes: Uint8Array): Frame | undefined {
  if (bytes.length < FRAME_HEADER_BYTES) return undefined;
  const length = new DataView(bytes.buffer, bytes.byteOffset, FRAME_HEADER_BYTES).getUint32(1);
  if (length !== bytes.length - FRAME_HEADER_BYTES) return undefined;
  return { type: bytes[0], payload: bytes.subarray(FRAME_HEADER_BYTES) };
}
