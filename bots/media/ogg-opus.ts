/**
 * Writes Opus packets as an Ogg Opus stream (RFC 7845), so ffmpeg can copy them into a WebM without
 * re-encoding (`-f ogg -i pipe:0 -c copy mix.webm`): the identification header, the comment header, then one
 * packet per page with its granule position (the 48 kHz sample count at its end). A packet placed later than
 * the one before leaves a gap in the granule positions; not every decoder turns that into silence (ffmpeg's
 * closes it up), so a writer that must keep time fills gaps with OPUS_SILENT_FRAME packets.
 */

/** Samples per second of every Opus stream's granule positions. */
const GRANULE_RATE = 48_000;
/** libopus's encoder lookahead at 48 kHz: what its first packets hold before the signal starts. */
const PRE_SKIP = 312;
const BOS = 0x02;
const EOS = 0x04;

/**
 * A 20 ms Opus packet that decodes to silence: TOC 0xF8 (CELT-only, fullband, 20 ms, mono, one frame) and a
 * CELT frame whose silence flag is set. What WebRTC stacks send in place of speech; any decoder takes it.
 */
export const OPUS_SILENT_FRAME: Uint8Array = Uint8Array.of(0xf8, 0xff, 0xfe);

/**
 * Builds the pages of one mono Opus stream.
 *
 * @example
 *   const ogg = new OggOpusWriter();
 *   ffmpeg.stdin.write(ogg.headers());
 *   ffmpeg.stdin.write(ogg.packet(opusPacket, 960 * (frameNumber + 1)));
 *   ffmpeg.stdin.end(ogg.end());
 */
export class OggOpusWriter {
  readonly #serial = Math.floor(Math.random() * 0xffffffff);
  #sequence = 0;
  #granule = 0n;

  /** The two header pages (identification and comments). */
  headers(): Buffer {
    const head = Buffer.alloc(19);
    head.write('OpusHead', 0, 'latin1');
    head[8] = 1; // version
    head[9] = 1; // channels
    head.writeUInt16LE(PRE_SKIP, 10);
    head.writeUInt32LE(GRANULE_RATE, 12);
    head.writeInt16LE(0, 16); // output gain
    head[18] = 0; // channel mapping family: mono/stereo
    const vendor = Buffer.from('confab', 'utf8');
    const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
    tags.write('OpusTags', 0, 'latin1');
    tags.writeUInt32LE(vendor.length, 8);
    vendor.copy(tags, 12);
    tags.writeUInt32LE(0, 12 + vendor.length);
    return Buffer.concat([this.#page(head, 0n, BOS), this.#page(tags, 0n, 0)]);
  }

  /** One packet on a page of its own, ending at sample `endSample` (≥ the previous one's). */
  packet(data: Uint8Array, endSample: number): Buffer {
    const granule = BigInt(Math.max(0, Math.round(endSample)));
    this.#granule = granule > this.#granule ? granule : this.#granule;
    return this.#page(data, this.#granule, 0);
  }

  /** The last page: no packet, marked end of stream. */
  end(): Buffer {
    return this.#page(undefined, this.#granule, EOS);
  }

  /** A page holding `data` as one packet, or no packet at all. */
  #page(packet: Uint8Array | undefined, granule: bigint, flags: number): Buffer {
    const data = packet ?? new Uint8Array(0);
    const lacing: number[] = [];
    for (let left = data.length; packet; left -= 255) {
      lacing.push(Math.min(255, left));
      if (left < 255) break;
    }
    if (lacing.length > 255) throw new RangeError(`an Ogg page holds at most 65 025 bytes, got ${data.length}`);
    const page = Buffer.alloc(27 + lacing.length + data.length);
    page.write('OggS', 0, 'latin1');
    page[4] = 0;
    page[5] = flags;
    page.writeBigInt64LE(granule, 6);
    page.writeUInt32LE(this.#serial, 14);
    page.writeUInt32LE(this.#sequence++, 18);
    page[26] = lacing.length;
    Buffer.from(lacing).copy(page, 27);
    page.set(data, 27 + lacing.length);
    page.writeUInt32LE(oggCrc(page), 22);
    return page;
  }
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let bit = 0; bit < 8; bit++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/** Ogg's CRC-32 (polynomial 0x04c11db7, not reflected, initial 0) of a page whose CRC field is zero. */
function oggCrc(page: Uint8Array): number {
  let crc = 0;
  for (const byte of page) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  return crc;
}
