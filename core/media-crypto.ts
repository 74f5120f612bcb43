/**
 * Sealed UDP datagrams: every datagram between a client and the server, UDP_BIND included, is one frame
 * encrypted and authenticated with the session's media key (AES-256-GCM, from WELCOME's `mediaKey`).
 *
 *   offset  size  field
 *   0       1     version (1)
 *   1       1     n: length of the media token (1..255)
 *   2       n     the session's mediaToken (ASCII, from WELCOME): which key opens the datagram
 *   2+n     8     sequence number, uint64 big-endian, from 1, one counter per key and direction
 *   10+n    …     AES-256-GCM ciphertext of one frame ([type u8][length u32][payload])
 *   end-16  16    the GCM tag
 *
 * The 12-byte nonce is [direction u8 (1 client→server, 2 server→client)][0 0 0][sequence u64]: a key never
 * sees the same nonce twice, and a datagram cannot be reflected back as if it came from the other side.
 * The header (bytes 0 to 10+n) is the additional authenticated data. A receiver keeps a sliding window of
 * the sequence numbers it accepted (`ReplayWindow`) and drops repeats and datagrams too old for it.
 *
 * Node only (node:crypto): UDP exists only in Node; browsers send media over their WebSocket.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

/** Bytes in a media key (AES-256). */
export const MEDIA_KEY_BYTES = 32;
/** The sealed datagram format's version byte. */
export const SEALED_VERSION = 1;
/** Bytes of the GCM tag at the end of a sealed datagram. */
export const TAG_BYTES = 16;
/** The largest sequence number used (2^53 − 1); a sealer refuses to go past it rather than reuse a nonce. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** Which way a datagram goes; part of the nonce. */
export type SealDirection = 'to-server' | 'to-client';

const DIRECTION_BYTE: Record<SealDirection, number> = { 'to-server': 1, 'to-client': 2 };
const ascii = new TextEncoder();
const asciiDecoder = new TextDecoder();

/** The cleartext header of a sealed datagram. */
export interface SealedHeader {
  /** The mediaToken naming the session whose key opens it. */
  token: string;
  /** The sender's sequence number. */
  seq: number;
  /** Bytes of header before the ciphertext. */
  length: number;
}

/**
 * Reads the header of a datagram that claims to be sealed; undefined when it cannot be one (too short, wrong
 * version, a sequence number of 0 or beyond MAX_SEQ). Never throws. Says nothing about authenticity.
 */
export function readSealedHeader(bytes: Uint8Array): SealedHeader | undefined {
  if (bytes.length < 2 || bytes[0] !== SEALED_VERSION) return undefined;
  const tokenLength = bytes[1]!;
  const length = 2 + tokenLength + 8;
  if (tokenLength === 0 || bytes.length < length + TAG_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const high = view.getUint32(2 + tokenLength);
  const low = view.getUint32(6 + tokenLength);
  const seq = high * 2 ** 32 + low;
  if (seq === 0 || seq > MAX_SEQ) return undefined;
  return { token: asciiDecoder.decode(bytes.subarray(2, 2 + tokenLength)), seq, length };
}

/**
 * Opens a sealed datagram whose header was read with `readSealedHeader`: the frame bytes inside, or
 * undefined when the tag does not verify (wrong key, tampered bytes, wrong direction). Never throws.
 */
export function openSealed(key: Uint8Array, bytes: Uint8Array, header: SealedHeader, direction: SealDirection): Uint8Array | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce(direction, header.seq));
    decipher.setAAD(bytes.subarray(0, header.length));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    const first = decipher.update(bytes.subarray(header.length, bytes.length - TAG_BYTES));
    const last = decipher.final();
    return last.length === 0 ? first : Buffer.concat([first, last]);
  } catch {
    return undefined;
  }
}

/**
 * Seals frames for one key and direction, numbering them 1, 2, 3… Keep one sealer per key and direction
 * for as long as the key lives: a second sealer would reuse nonces.
 *
 * @example
 *   const sealer = new MediaSealer(key, welcome.mediaToken, 'to-server');
 *   socket.send(sealer.seal(encodeFrame(FrameType.UDP_BIND, nonceBytes)), port, host);
 */
export class MediaSealer {
  readonly #key: Uint8Array;
  readonly #token: Uint8Array;
  readonly #direction: SealDirection;
  #seq = 0;

  constructor(key: Uint8Array, token: string, direction: SealDirection) {
    if (key.length !== MEDIA_KEY_BYTES) throw new RangeError(`a media key has ${MEDIA_KEY_BYTES} bytes, got ${key.length}`);
    const tokenBytes = ascii.encode(token);
    if (tokenBytes.length === 0 || tokenBytes.length > 255) throw new RangeError('a media token has 1 to 255 bytes');
    this.#key = key;
    this.#token = tokenBytes;
    this.#direction = direction;
  }

  /** The last sequence number used (0 before the first datagram). */
  get seq(): number {
    return this.#seq;
  }

  /** Bytes a sealed datagram adds to the frame it carries. */
  get overhead(): number {
    return 2 + this.#token.length + 8 + TAG_BYTES;
  }

  /** Seals one encoded frame into a new datagram with the next sequence number. */
  seal(frame: Uint8Array): Uint8Array {
    if (this.#seq >= MAX_SEQ) throw new RangeError('this media key has sealed 2^53 − 1 datagrams; a new session has a new key');
    const seq = ++this.#seq;
    const header = Buffer.allocUnsafe(2 + this.#token.length + 8);
    header[0] = SEALED_VERSION;
    header[1] = this.#token.length;
    header.set(this.#token, 2);
    header.writeUInt32BE(Math.floor(seq / 2 ** 32), 2 + this.#token.length);
    header.writeUInt32BE(seq >>> 0, 6 + this.#token.length);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce(this.#direction, seq));
    cipher.setAAD(header);
    const body = cipher.update(frame);
    const rest = cipher.final();
    return Buffer.concat([header, body, rest, cipher.getAuthTag()]);
  }
}

/**
 * The sequence numbers a receiver accepted, as a sliding window of `ReplayWindow.SIZE` behind the highest:
 * a number seen before, or older than the window, is a replay. Check with `fresh` before the (costly)
 * decryption, and `mark` only after the tag verified, so forged datagrams cannot move the window.
 */
export class ReplayWindow {
  /** How far behind the highest number a late datagram is still accepted. */
  static readonly SIZE = 1024;
  #highest = 0;
  #bits = new Uint32Array(ReplayWindow.SIZE / 32);

  /** The highest sequence number accepted so far. */
  get highest(): number {
    return this.#highest;
  }

  /** True when `seq` was not accepted before and is not too old. */
  fresh(seq: number): boolean {
    if (seq > this.#highest) return true;
    if (this.#highest - seq >= ReplayWindow.SIZE) return false;
    return !this.#has(seq);
  }

  /** Records `seq` as accepted (it must be `fresh`). */
  mark(seq: number): void {
    if (seq > this.#highest) {
      if (seq - this.#highest >= ReplayWindow.SIZE) this.#bits.fill(0);
      else for (let s = this.#highest + 1; s <= seq; s++) this.#set(s, false);
      this.#highest = seq;
    }
    this.#set(seq, true);
  }

  #has(seq: number): boolean {
    const bit = seq % ReplayWindow.SIZE;
    return (this.#bits[bit >>> 5]! & (1 << (bit & 31))) !== 0;
  }

  #set(seq: number, on: boolean): void {
    const bit = seq % ReplayWindow.SIZE;
    if (on) this.#bits[bit >>> 5]! |= 1 << (bit & 31);
    else this.#bits[bit >>> 5]! &= ~(1 << (bit & 31));
  }
}

function nonce(direction: SealDirection, seq: number): Buffer {
  const bytes = Buffer.alloc(12);
  bytes[0] = DIRECTION_BYTE[direction];
  bytes.writeUInt32BE(Math.floor(seq / 2 ** 32), 4);
  bytes.writeUInt32BE(seq >>> 0, 8);
  return bytes;
}
