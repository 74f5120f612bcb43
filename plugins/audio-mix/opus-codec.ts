/**
 * Opus for 20 ms, 48 kHz mono frames, behind one small interface, loaded lazily.
 *
 * `loadOpus()` tries `@evan/opus` (a native addon shipped inside its npm package, with a wasm build of its
 * own as a fallback), then `opusscript` (wasm), and returns undefined when neither loads (in a browser, say),
 * logging one clear line. The packages are imported by a specifier held in a variable, so a browser bundle
 * (esbuild) leaves them out: nothing here imports a Node module at the top level. A browser client injects
 * its own codec (WebCodecs) or uses PCM.
 */
import { FRAME_SAMPLES, SAMPLE_RATE } from './protocol.js';

/** Encodes one speaker's (or one listener's) stream; an encoder keeps state between frames. */
export interface OpusEncoder {
  /** One 960-sample frame to one Opus packet (a new array each call). */
  encode(pcm: Int16Array): Uint8Array;
}

/** Decodes one stream; a decoder keeps state between frames. */
export interface OpusDecoder {
  /** One Opus packet of 20 ms to 960 samples written into `out`. Throws for a packet it cannot decode. */
  decode(packet: Uint8Array, out: Int16Array): void;
}

/** Makes encoders and decoders; `name` says which implementation is behind it. */
export interface OpusCodec {
  readonly name: string;
  createEncoder(options?: { bitrate?: number; complexity?: number }): OpusEncoder;
  createDecoder(): OpusDecoder;
}

/** Default Opus bitrate for voice, bits per second. */
export const DEFAULT_OPUS_BITRATE = 32_000;
/**
 * Default encoder complexity (0–10). 5 costs about half of libopus's default 9 per frame, with little audible
 * difference for voice at 32 kb/s: what lets a server encode a mix for every talker.
 */
export const DEFAULT_OPUS_COMPLEXITY = 5;

/** Where `loadOpus` logs its fallback line; defaults to `console.warn`. */
export type OpusLog = (message: string) => void;

/**
 * Loads the fastest Opus available: `@evan/opus`, else `opusscript`, else undefined. Each package is
 * imported only when this runs. The result is cached.
 *
 * @example
 *   const opus = await loadOpus((line) => log.warn(line));
 *   const encoder = opus?.createEncoder();
 */
export function loadOpus(log: OpusLog = (message) => console.warn(message)): Promise<OpusCodec | undefined> {
  loading ??= loadFirstAvailable(log);
  return loading;
}

let loading: Promise<OpusCodec | undefined> | undefined;

async function loadFirstAvailable(log: OpusLog): Promise<OpusCodec | undefined> {
  let evanError: unknown;
  try {
    return await loadEvanOpus();
  } catch (error) {
    evanError = error;
  }
  try {
    const codec = await loadOpusScript();
    log(`audio: @evan/opus did not load (${describe(evanError)}); using opusscript (wasm), which is slower`);
    return codec;
  } catch (error) {
    log(`audio: no Opus codec (@evan/opus: ${describe(evanError)}; opusscript: ${describe(error)}); only PCM will be used`);
    return undefined;
  }
}

/** Imports a package by a specifier bundlers cannot see, so a browser bundle does not pull it in. */
function importPackage(specifier: string): Promise<any> {
  return import(specifier);
}

async function loadEvanOpus(): Promise<OpusCodec> {
  const { Encoder, Decoder } = await importPackage('@evan/opus');
  // A round trip proves the addon (or its wasm fallback) really works before anyone relies on it.
  const probe = new Decoder({ channels: 1, sample_rate: SAMPLE_RATE });
  probe.decode(new Encoder({ channels: 1, sample_rate: SAMPLE_RATE, application: 'voip' }).encode(new Int16Array(FRAME_SAMPLES)));
  return {
    name: '@evan/opus',
    createEncoder({ bitrate = DEFAULT_OPUS_BITRATE, complexity = DEFAULT_OPUS_COMPLEXITY } = {}) {
      const encoder = new Encoder({ channels: 1, sample_rate: SAMPLE_RATE, application: 'voip' });
      encoder.bitrate = bitrate;
      encoder.complexity = complexity;
      return { encode: (pcm: Int16Array) => encoder.encode(pcm) as Uint8Array };
    },
    createDecoder() {
      const decoder = new Decoder({ channels: 1, sample_rate: SAMPLE_RATE });
      return { decode: (packet: Uint8Array, out: Int16Array) => copyFrame(decoder.decode(packet) as Uint8Array, out) };
    },
  };
}

/** libopus's OPUS_SET_COMPLEXITY request. */
const OPUS_SET_COMPLEXITY = 4010;

async function loadOpusScript(): Promise<OpusCodec> {
  const OpusScript = (await importPackage('opusscript')).default;
  const application = OpusScript.Application.VOIP;
  return {
    name: 'opusscript',
    createEncoder({ bitrate = DEFAULT_OPUS_BITRATE, complexity = DEFAULT_OPUS_COMPLEXITY } = {}) {
      const encoder = new OpusScript(SAMPLE_RATE, 1, application);
      encoder.setBitrate(bitrate);
      encoder.encoderCTL(OPUS_SET_COMPLEXITY, complexity);
      return {
        encode: (pcm: Int16Array) => new Uint8Array(encoder.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength), FRAME_SAMPLES)),
      };
    },
    createDecoder() {
      const decoder = new OpusScript(SAMPLE_RATE, 1, application);
      return { decode: (packet: Uint8Array, out: Int16Array) => copyFrame(decoder.decode(Buffer.from(packet)), out) };
    },
  };
}

/** Copies decoded s16 bytes (host order, as the codecs return them) into `out`; a wrong length throws. */
function copyFrame(bytes: Uint8Array, out: Int16Array): void {
  if (bytes.length !== out.length * 2) {
    throw new RangeError(`the packet decoded to ${bytes.length / 2} samples, not ${out.length} (a 20 ms frame)`);
  }
  const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
  out.set(new Int16Array(aligned.buffer, aligned.byteOffset, out.length));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}
