/**
 * One room's mixer: a jitter buffer, a decoder, a concealer and a level meter per speaker; a listener list
 * with the codec each wants; and `tick()`, run every 20 ms, which mixes and hands out the frames.
 *
 * Per tick: each speaker's frame is taken from its jitter buffer and decoded once (or concealed); the
 * talkers (a frame above the noise gate, or within the hangover after one) are summed once into the bus;
 * each listening talker gets `total − own` encoded for it alone; every other listener gets the total, encoded
 * once per codec and shared (the same payload object for all of them). No Session in here: the server
 * delivers payloads, and the bench drives a RoomMixer directly.
 */
import { encodeMediaFrame, MediaCodec, type MediaFrame } from '../../core/wire.js';
import { Concealer } from './concealment.js';
import { JitterBuffer, type JitterBufferOptions } from './jitter-buffer.js';
import { LevelMeter } from './level-meter.js';
import { MixBus } from './mixer.js';
import type { OpusCodec, OpusDecoder, OpusEncoder } from './opus-codec.js';
import { bytesToPcm, pcmToBytes } from './pcm.js';
import { FRAME_SAMPLES, PCM_FRAME_BYTES, type AudioCodecName } from './protocol.js';

/** Mean square below which a frame counts as silence (about −70 dBFS): it does not make its sender a talker. */
const NOISE_GATE_MEAN_SQUARE = 107;
const NO_BYTES = new Uint8Array(0);
/** Ticks a speaker stays a talker after its last frame above the gate (400 ms), so pauses do not flap. */
const HANGOVER_TICKS = 20;
/** Levels are reported every this many ticks (200 ms: 5 Hz). */
export const LEVEL_EVERY_TICKS = 10;

/** Why the mixer dropped an incoming frame (counted in `/metrics` as `confab_media_refused_total`). */
export type AudioDropReason = 'audio-muted' | 'audio-late' | 'audio-duplicate' | 'audio-bad-length' | 'audio-undecodable' | 'audio-no-opus';

/** What a RoomMixer needs from its owner. */
export interface RoomMixerOptions {
  /** The Opus codec, or undefined when only PCM is available. */
  opus: OpusCodec | undefined;
  /** Sends an encoded media payload (header and audio) to a listener. Shared payloads are the same object. */
  deliver(listenerId: string, payload: Uint8Array): void;
  /** Speakers whose level changed since the last report, in dBFS; at most every LEVEL_EVERY_TICKS ticks. */
  reportLevels?(levels: Record<string, number>): void;
  /** Counts a dropped incoming frame. */
  count?(reason: AudioDropReason): void;
  /** Opus bitrate of the mixes, bits/s. */
  bitrate?: number;
  /** Jitter buffer options (frames). */
  jitter?: JitterBufferOptions;
}

/** A frame waiting in a jitter buffer: a copy of its bytes. */
interface QueuedFrame {
  codec: MediaCodec;
  data: Uint8Array;
  captureMs: number;
}

/** One participant who sends audio. */
class Speaker {
  readonly jitter: JitterBuffer<QueuedFrame>;
  readonly concealer = new Concealer();
  readonly meter = new LevelMeter();
  /** This tick's decoded (or concealed) frame. */
  readonly pcm = new Int16Array(FRAME_SAMPLES);
  decoder: OpusDecoder | undefined;
  muted = false;
  /** True when this speaker is in this tick's mix. */
  talking = false;
  hangover = 0;
  /** Capture time of this tick's real frame (0 for a concealed one). */
  captureMs = 0;

  constructor(jitter: JitterBufferOptions | undefined) {
    this.jitter = new JitterBuffer(jitter);
  }
}

/** One participant who receives the mix. */
class Listener {
  codec: AudioCodecName;
  /** Its own Opus encoder, for the ticks it is a talker and hears a mix of its own. */
  encoder: OpusEncoder | undefined;
  readonly out = new Int16Array(FRAME_SAMPLES);

  constructor(codec: AudioCodecName) {
    this.codec = codec;
  }
}

/** The mixer of one room. */
export class RoomMixer {
  readonly #options: RoomMixerOptions;
  readonly #speakers = new Map<string, Speaker>();
  readonly #listeners = new Map<string, Listener>();
  readonly #bus = new MixBus();
  readonly #sharedPcm = new Int16Array(FRAME_SAMPLES);
  #sharedEncoder: OpusEncoder | undefined;
  /** The media header of the last PCM payload built (reused while the tick and capture time stay the same). */
  #pcmHeader: { tick: number; captureMs: number; bytes: Uint8Array } | undefined;
  /** Ticks so far: the sequence number of every mix frame of this tick. */
  #tick = 0;

  constructor(options: RoomMixerOptions) {
    this.#options = options;
  }

  /** True when there is nothing to mix and nobody to send to: the room need not tick. */
  get idle(): boolean {
    if (this.#listeners.size > 0) return false;
    for (const speaker of this.#speakers.values()) if (!speaker.jitter.idle || speaker.concealer.active) return false;
    return true;
  }

  /** The ids of muted speakers. */
  get muted(): string[] {
    return [...this.#speakers].filter(([, speaker]) => speaker.muted).map(([id]) => id);
  }

  /** The codec a listener gets, if it listens. */
  listening(id: string): AudioCodecName | undefined {
    return this.#listeners.get(id)?.codec;
  }

  /**
   * Takes a checked frame from a speaker, arrived at `arrivalMs` (performance.now()); true when it went into
   * the speaker's jitter buffer, false when it was dropped (and counted): muted, malformed, late, a duplicate.
   */
  receive(id: string, frame: MediaFrame, arrivalMs: number): boolean {
    const speaker = this.#speaker(id);
    if (speaker.muted) return this.#drop('audio-muted');
    if (frame.codec === MediaCodec.PCM_S16LE && frame.data.length !== PCM_FRAME_BYTES) return this.#drop('audio-bad-length');
    if (frame.codec === MediaCodec.OPUS && !this.#options.opus) return this.#drop('audio-no-opus');
    // A copy (the frame is a view into a network buffer), from Node's pool: no new ArrayBuffer per frame.
    const queued = { codec: frame.codec, data: Buffer.from(frame.data), captureMs: frame.captureMs };
    const result = speaker.jitter.push(frame.seq, queued, arrivalMs);
    if (result === 'late') return this.#drop('audio-late');
    if (result === 'duplicate') return this.#drop('audio-duplicate');
    return true;
  }

  /** Sets a speaker's own mute; a muted speaker's frames are dropped and its buffer emptied. */
  setMuted(id: string, muted: boolean): void {
    const speaker = this.#speaker(id);
    speaker.muted = muted;
    if (muted) speaker.jitter.reset();
  }

  /** Starts (or changes the codec of) a listener; asks for Opus fall back to PCM without a codec. */
  listen(id: string, codec: AudioCodecName): AudioCodecName {
    const effective = codec === 'opus' && !this.#options.opus ? 'pcm' : codec;
    const listener = this.#listeners.get(id);
    if (listener) listener.codec = effective;
    else this.#listeners.set(id, new Listener(effective));
    return effective;
  }

  /** Stops sending the mix to a listener. */
  unlisten(id: string): void {
    this.#listeners.delete(id);
  }

  /** Forgets a participant who left. */
  remove(id: string): void {
    this.#speakers.delete(id);
    this.#listeners.delete(id);
  }

  /** Mixes one 20 ms frame for every listener. `nowMs` (epoch ms) stamps a mix without any talker. */
  tick(nowMs = Date.now()): void {
    this.#tick = (this.#tick + 1) >>> 0;
    const bus = this.#bus;
    bus.clear();
    let newest = 0;
    let secondNewest = 0;
    let newestId: string | undefined;
    for (const [id, speaker] of this.#speakers) {
      speaker.talking = this.#pull(speaker, bus);
      if (!speaker.talking) continue;
      if (speaker.captureMs > newest) {
        secondNewest = newest;
        newest = speaker.captureMs;
        newestId = id;
      } else if (speaker.captureMs > secondNewest) {
        secondNewest = speaker.captureMs;
      }
    }

    let sharedOpus: Uint8Array | undefined;
    let sharedPcm: Uint8Array | undefined;
    let sharedMixed = false;
    for (const [id, listener] of this.#listeners) {
      const speaker = this.#speakers.get(id);
      if (speaker?.talking) {
        bus.mixMinus(speaker.pcm, listener.out);
        const captureMs = (id === newestId ? secondNewest : newest) || nowMs;
        const encoder = listener.codec === 'opus' ? (listener.encoder ??= this.#newEncoder()) : undefined;
        this.#options.deliver(id, this.#payload(listener.out, encoder, captureMs));
        continue;
      }
      if (!sharedMixed) {
        bus.mixMinus(undefined, this.#sharedPcm);
        sharedMixed = true;
      }
      const captureMs = newest || nowMs;
      const payload = listener.codec === 'opus'
        ? (sharedOpus ??= this.#payload(this.#sharedPcm, (this.#sharedEncoder ??= this.#newEncoder()), captureMs))
        : (sharedPcm ??= this.#payload(this.#sharedPcm, undefined, captureMs));
      this.#options.deliver(id, payload);
    }

    if (this.#tick % LEVEL_EVERY_TICKS === 0) this.#reportLevels();
  }

  /**
   * Fills `speaker.pcm` with this tick's frame and, when the speaker is a talker this tick, adds it to the bus
   * (metering and adding a real frame in one pass); true when it is a talker.
   */
  #pull(speaker: Speaker, bus: MixBus): boolean {
    const popped = speaker.jitter.pop();
    speaker.captureMs = 0;
    if (popped?.kind === 'frame' && this.#decode(speaker, popped.value)) {
      speaker.concealer.accept(speaker.pcm);
      speaker.captureMs = popped.value.captureMs;
      const meanSquare = speaker.meter.record(bus.addMeasured(speaker.pcm), FRAME_SAMPLES);
      if (meanSquare >= NOISE_GATE_MEAN_SQUARE) speaker.hangover = HANGOVER_TICKS;
      else if (speaker.hangover > 0) speaker.hangover--;
      if (speaker.hangover > 0) return true;
      bus.remove(speaker.pcm);
      return false;
    }
    if (speaker.hangover === 0 || !speaker.concealer.conceal(speaker.pcm)) return false;
    speaker.hangover--;
    bus.add(speaker.pcm);
    return true;
  }

  #decode(speaker: Speaker, frame: QueuedFrame): boolean {
    if (frame.codec === MediaCodec.PCM_S16LE) {
      bytesToPcm(frame.data, speaker.pcm);
      return true;
    }
    try {
      speaker.decoder ??= this.#options.opus!.createDecoder();
      speaker.decoder.decode(frame.data, speaker.pcm);
      return true;
    } catch {
      this.#count('audio-undecodable');
      return false;
    }
  }

  #payload(pcm: Int16Array, encoder: OpusEncoder | undefined, captureMs: number): Uint8Array {
    if (!encoder) return this.#pcmPayload(pcm, captureMs);
    return encodeMediaFrame({ codec: MediaCodec.OPUS, keyframe: true, seq: this.#tick, captureMs, sender: '', data: encoder.encode(pcm) });
  }

  /**
   * A PCM payload: this tick's media header (encoded once per capture time, not per listener) and the
   * samples, in a buffer from Node's pool, which is far cheaper than a new ArrayBuffer per listener.
   */
  #pcmPayload(pcm: Int16Array, captureMs: number): Uint8Array {
    let header = this.#pcmHeader;
    if (!header || header.tick !== this.#tick || header.captureMs !== captureMs) {
      const bytes = encodeMediaFrame({ codec: MediaCodec.PCM_S16LE, keyframe: true, seq: this.#tick, captureMs, sender: '', data: NO_BYTES });
      header = this.#pcmHeader = { tick: this.#tick, captureMs, bytes };
    }
    const payload = Buffer.allocUnsafe(header.bytes.length + PCM_FRAME_BYTES);
    payload.set(header.bytes);
    payload.set(pcmToBytes(pcm), header.bytes.length);
    return payload;
  }

  #newEncoder(): OpusEncoder {
    return this.#options.opus!.createEncoder({ bitrate: this.#options.bitrate });
  }

  #reportLevels(): void {
    const changed: Record<string, number> = {};
    let any = false;
    for (const [id, speaker] of this.#speakers) {
      const level = speaker.meter.take();
      if (level === speaker.meter.reported) continue;
      speaker.meter.reported = level;
      changed[id] = level;
      any = true;
    }
    if (any) this.#options.reportLevels?.(changed);
  }

  #speaker(id: string): Speaker {
    let speaker = this.#speakers.get(id);
    if (!speaker) {
      speaker = new Speaker(this.#options.jitter);
      this.#speakers.set(id, speaker);
    }
    return speaker;
  }

  #count(reason: AudioDropReason): void {
    this.#options.count?.(reason);
  }

  /** Counts a dropped incoming frame; false, for `receive` to return. */
  #drop(reason: AudioDropReason): false {
    this.#count(reason);
    return false;
  }
}
