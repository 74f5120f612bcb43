/**
 * PCM s16le frames as bytes and back. Works in Node and the browser (typed arrays only); on a big-endian
 * machine the bytes are swapped, because the wire format is little-endian.
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The samples as s16le bytes: a view on little-endian machines, a copy otherwise. */
export function pcmToBytes(pcm: Int16Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const bytes = new Uint8Array(pcm.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < pcm.length; i++) view.setInt16(i * 2, pcm[i]!, true);
  return bytes;
}

/** Reads s16le bytes into `out` (or a new array); the byte length must be twice the sample count. */
export function bytesToPcm(bytes: Uint8Array, out = new Int16Array(bytes.length >> 1)): Int16Array {
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes.subarray(0, out.byteLength));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}
