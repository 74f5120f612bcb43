/**
 * A pcap writer (and reader, for tests and tools) for the inspector: classic libpcap format, microsecond
 * timestamps, link type LINKTYPE_USER0 (147), which Wireshark opens and shows as raw bytes (a dissector can
 * be attached to DLT_USER0 in Wireshark's preferences; see the README).
 *
 * Each packet is a small Confab capture header followed by the whole Confab frame as it was on the wire:
 *
 *   offset  size  field
 *   0       1     direction: 0 = client → server, 1 = server → client
 *   1       1     session id length n
 *   2       n     session id (UTF-8)
 *   2+n     …     the frame: type u8, length u32 big-endian, payload
 *
 * File header (24 bytes, little-endian): magic a1b2c3d4, version 2.4, thiszone 0, sigfigs 0, snaplen, 147.
 * Record header (16 bytes, little-endian): ts_sec, ts_usec, incl_len, orig_len.
 */
import { FRAME_HEADER_BYTES } from '../../core/wire.js';

/** LINKTYPE_USER0 / DLT_USER0. */
export const LINKTYPE_USER0 = 147;
/** The classic pcap magic number, microsecond resolution. */
export const PCAP_MAGIC = 0xa1b2c3d4;
/** Bytes kept of one packet by default. */
export const DEFAULT_SNAPLEN = 262_144;

/** One packet as `readPcap` returns it: one frame, as the trace file's record of it says (same `t`, order). */
export interface PcapPacket {
  /** Capture time, ms since the epoch (microsecond precision). */
  t: number;
  /** `in`: client → server; `out`: server → client. */
  dir: 'in' | 'out';
  /** The session id. */
  session: string;
  /** Frame type id (a core frame, or a channel's id from WELCOME). */
  type: number;
  /** The frame's payload, as far as it was captured: shorter than the frame's when `snaplen` cut it. */
  payload: Uint8Array;
  /** The whole packet's original length (capture header, frame header and whole payload). */
  originalLength: number;
}

/** A pcap file as `readPcap` returns it. */
export interface PcapCapture {
  /** Bytes kept of each packet (the inspector's `snaplen` option). */
  snaplen: number;
  /** The link type: LINKTYPE_USER0 (147) for the inspector's files. */
  linktype: number;
  /** Every packet, in the order written (the order the server handled the frames). */
  packets: PcapPacket[];
}

/** The 24-byte pcap file header. */
export function pcapFileHeader(snaplen = DEFAULT_SNAPLEN): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(PCAP_MAGIC, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeInt32LE(0, 8);
  header.writeUInt32LE(0, 12);
  header.writeUInt32LE(snaplen, 16);
  header.writeUInt32LE(LINKTYPE_USER0, 20);
  return header;
}

/** One pcap record (record header and packet, cut at `snaplen`) for a frame. */
export function pcapRecord(t: number, dir: 'in' | 'out', session: string, type: number, payload: Uint8Array, snaplen = DEFAULT_SNAPLEN): Buffer {
  const id = Buffer.from(session, 'utf8').subarray(0, 255);
  const packetLength = 2 + id.length + FRAME_HEADER_BYTES + payload.length;
  const captured = Math.min(packetLength, snaplen);
  const record = Buffer.alloc(16 + captured);
  const micros = Math.round(t * 1000);
  record.writeUInt32LE(Math.floor(micros / 1_000_000), 0);
  record.writeUInt32LE(micros % 1_000_000, 4);
  record.writeUInt32LE(captured, 8);
  record.writeUInt32LE(packetLength, 12);
  const packet = Buffer.alloc(packetLength);
  packet[0] = dir === 'in' ? 0 : 1;
  packet[1] = id.length;
  id.copy(packet, 2);
  packet[2 + id.length] = type;
  packet.writeUInt32BE(payload.length, 3 + id.length);
  packet.set(payload, 2 + id.length + FRAME_HEADER_BYTES);
  packet.copy(record, 16, 0, captured);
  return record;
}

/**
 * Parses a pcap file written by the inspector into its snaplen, link type and packets; throws an Error on a
 * file that is not one (another magic or version, a truncated or inconsistent record). The payloads are
 * views into `bytes`.
 *
 * @example
 *   const { packets } = readPcap(readFileSync('.confab/plugins/inspector/trace.pcap'));
 *   const errors = packets.filter((p) => p.type === FrameType.ERROR).map((p) => JSON.parse(Buffer.from(p.payload).toString()).code);
 */
export function readPcap(bytes: Uint8Array): PcapCapture {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (data.length < 24 || data.readUInt32LE(0) !== PCAP_MAGIC) throw new Error('not a little-endian microsecond pcap file');
  if (data.readUInt16LE(4) !== 2 || data.readUInt16LE(6) !== 4) throw new Error('not pcap version 2.4');
  const snaplen = data.readUInt32LE(16);
  const linktype = data.readUInt32LE(20);
  const packets: PcapPacket[] = [];
  let at = 24;
  while (at < data.length) {
    if (at + 16 > data.length) throw new Error(`truncated record header at byte ${at}`);
    const seconds = data.readUInt32LE(at);
    const micros = data.readUInt32LE(at + 4);
    const captured = data.readUInt32LE(at + 8);
    const original = data.readUInt32LE(at + 12);
    if (captured > snaplen || captured > original || at + 16 + captured > data.length) throw new Error(`bad record at byte ${at}`);
    const packet = data.subarray(at + 16, at + 16 + captured);
    const idLength = packet[1]!;
    const frameAt = 2 + idLength;
    packets.push({
      t: seconds * 1000 + micros / 1000,
      dir: packet[0] === 0 ? 'in' : 'out',
      session: packet.subarray(2, frameAt).toString('utf8'),
      type: packet[frameAt]!,
      payload: packet.subarray(frameAt + FRAME_HEADER_BYTES),
      originalLength: original,
    });
    at += 16 + captured;
  }
  return { snaplen, linktype, packets };
}
