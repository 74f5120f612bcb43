/**
 * The audio-mix plugin, client half: publish microphone frames (Opus or PCM), receive the room's mix minus
 * your own voice (and, when asked, each other speaker's own frames: `receiveTracks`), mute yourself, and follow
 * who is muted and how loud each speaker is. Used by the web client, the terminal client and the bots
 * (recorder, injector, load).
 *
 * Bundles for the browser: nothing here imports a Node module. With `codec: 'opus'` and no `opus` given, the
 * codec is loaded lazily with `loadOpus()` (in Node: `@evan/opus`, else `opusscript`); where none loads (a
 * browser), the client sends and asks for PCM. A browser can also encode with WebCodecs itself and use
 * `publishEncoded`, and decode Opus mixes from the `frame` event (see README.md).
 *
 * @example
 *   const client = new ConfabClient({ url: 'tcp://127.0.0.1:5000', name: 'alice' });
 *   const audio = client.use(audioClient({ codec: 'opus', listen: true }));
 *   audio.on('mix', ({ pcm }) => speaker.write(pcm));          // 960 samples, 48 kHz mono, every 20 ms
 *   audio.on('levels', (levels) => console.log(levels));       // { [peerId]: dBFS }
 *   await client.connect();
 *   await audio.ready;
 *   audio.publish(microphoneFrame);                            // Int16Array of 960 samples
 *   audio.setMuted(true);
 */
import { Emitter } from '../../core/client/emitter.js';
import type { ClientPlugin } from '../../core/client/types.js';
import { decodeMediaFrame, encodeMediaFrame, MediaCodec, type MediaFrame } from '../../core/wire.js';
import { loadOpus, type OpusCodec, type OpusDecoder, type OpusEncoder } from './opus-codec.js';
import { bytesToPcm, pcmToBytes } from './pcm.js';
import {
  AUDIO,
  AUDIO_CONTROL,
  FRAME_SAMPLES,
  PCM_FRAME_BYTES,
  SILENCE_DBFS,
  type AudioCodecName,
} from './protocol.js';

/** Options of the audio client half. */
export interface AudioClientOptions {
  /** What `publish` sends: Opus (default) or PCM. Opus falls back to PCM when no codec loads. */
  codec?: AudioCodecName;
  /** Ask for the room's mix as soon as joined (again after a resume). Default true. */
  listen?: boolean;
  /**
   * The codec the mix should come in. Default: `codec`, but PCM when no Opus decoder is available. Set
   * `'opus'` explicitly to get Opus mixes without a decoder here (decode them from the `frame` event).
   */
  receive?: AudioCodecName;
  /** The Opus codec to use; null for none. Default: `loadOpus()` when `codec` or `receive` is `'opus'`. */
  opus?: OpusCodec | null;
}

/** One frame of the mix, decoded. */
export interface MixFrame {
  /** 960 samples, 48 kHz mono (a new array per frame). */
  pcm: Int16Array;
  /** The room mixer's tick number (consecutive unless frames were lost). */
  seq: number;
  /** The newest capture time mixed in (ms since epoch), or the mix time when nobody spoke. */
  captureMs: number;
  /** The codec it came in. */
  codec: AudioCodecName;
}

/** Events of the audio client half. */
export type AudioEvents = {
  /** A frame of the mix (everyone else's voice), decoded. */
  mix: [MixFrame];
  /** A frame of the mix as it arrived (before decoding): for recorders that keep Opus, or WebCodecs. */
  frame: [MediaFrame];
  /**
   * After `receiveTracks(true)`: one frame of another speaker's own audio as that speaker sent it (Opus or
   * PCM, not decoded here); `sender` is the speaker's id, `seq` and `captureMs` the speaker's.
   */
  track: [MediaFrame];
  /** The server confirmed whether the speakers' own frames (`track`) come. */
  tracks: [boolean];
  /** Speakers whose level changed, in dBFS (−100 is silence); at most 5 times a second. */
  levels: [Record<string, number>];
  /** A participant (maybe this one) muted or unmuted. */
  muted: [{ peer: string; muted: boolean }];
  /** The server confirmed the mix's codec, or null when it stopped sending the mix. */
  listening: [AudioCodecName | null];
  /** The server announced the codecs it takes (on join): `publish` and `listen` keep to them. */
  codecs: [AudioCodecName[]];
};

/** What `client.use(audioClient())` returns. */
export interface AudioApi extends Pick<Emitter<AudioEvents>, 'on' | 'off' | 'once'> {
  /** Resolves once the codec is settled (Opus loaded, or PCM decided): publish after it for Opus from frame 1. */
  readonly ready: Promise<void>;
  /** What `publish` sends now: `'opus'` when an encoder is available and the server takes Opus, else `'pcm'`. */
  readonly sendCodec: AudioCodecName;
  /**
   * The codecs the server announced on join (`['opus', 'pcm']`, or `['pcm']` on a server without Opus);
   * undefined until the announcement arrives, when Opus is assumed.
   */
  readonly serverCodecs: readonly AudioCodecName[] | undefined;
  /** True while this client is muted. */
  readonly muted: boolean;
  /** Current levels of the speakers heard, by peer id (dBFS). */
  readonly levels: ReadonlyMap<string, number>;
  /** Peer ids currently muted. */
  readonly mutedPeers: ReadonlySet<string>;
  /**
   * Sends one 20 ms frame of the microphone (960 samples, 48 kHz mono), encoded with Opus when available.
   * `captureMs` defaults to now. Returns false when not sent (muted, or not connected).
   */
  publish(pcm: Int16Array, options?: { captureMs?: number }): boolean;
  /**
   * Sends a frame already encoded (WebCodecs Opus in a browser, say): one 20 ms packet. An Opus packet for
   * a server without Opus is decoded here and sent as PCM; without a decoder it is not sent (false).
   */
  publishEncoded(frame: Uint8Array, codec: AudioCodecName, options?: { captureMs?: number }): boolean;
  /** Mutes or unmutes this client for the room (its frames are not sent, and dropped by the server). */
  setMuted(muted: boolean): void;
  /** Asks for the mix (in `codec`, default as configured). */
  listen(codec?: AudioCodecName): void;
  /** Stops the mix. */
  unlisten(): void;
  /**
   * Asks for (true) or stops (false) each other speaker's own frames, besides the mix, as `track` events;
   * asked again on a new session. Needs the `subscribe` grant (else an AUDIO_NOT_ALLOWED error).
   */
  receiveTracks(on: boolean): void;
}

/** Creates the audio client half. */
export function audioClient(options: AudioClientOptions = {}): ClientPlugin<AudioApi> {
  const codec = options.codec ?? 'opus';
  return {
    name: 'audio-mix',
    attach(ctx) {
      const events = new Emitter<AudioEvents>();
      const levels = new Map<string, number>();
      const mutedPeers = new Set<string>();
      let encoder: OpusEncoder | undefined;
      /** Decodes the mix. */
      let decoder: OpusDecoder | undefined;
      let loaded: OpusCodec | undefined;
      /** Decodes this client's own encoded frames for a server without Opus (its own state, apart from the mix's). */
      let ownDecoder: OpusDecoder | undefined;
      let listening = options.listen ?? true;
      /** Whether the speakers' own frames are wanted (`receiveTracks`). */
      let tracks = false;
      /** The mix codec asked for explicitly (option or `listen(codec)`); else it follows `codec` and the decoder. */
      let requested = options.receive;
      let muted = false;
      let seq = 0;
      /** The codecs the server announced; undefined before the announcement (Opus is then assumed). */
      let offered: AudioCodecName[] | undefined;
      /** The codec of the last listen request sent. */
      let asked: AudioCodecName | undefined;
      const offers = (wanted: AudioCodecName) => offered === undefined || offered.includes(wanted);

      const media = ctx.channel(AUDIO);
      const control = ctx.channel(AUDIO_CONTROL);
      const wantsOpus = codec === 'opus' || options.receive === 'opus';
      const codecLoaded = options.opus !== undefined ? Promise.resolve(options.opus ?? undefined) : wantsOpus ? loadOpus() : Promise.resolve(undefined);
      const ready = codecLoaded.then((opus) => {
        if (opus && codec === 'opus') encoder = opus.createEncoder();
        if (opus) decoder = opus.createDecoder();
        loaded = opus;
      });

      const sendListen = () => {
        const preferred = requested ?? (codec === 'opus' && decoder ? 'opus' : 'pcm');
        const receive = offers(preferred) ? preferred : 'pcm';
        if (!listening || ctx.client.state !== 'open') return;
        asked = receive;
        control.send({ op: 'listen', codec: receive });
      };
      const sendFrame = (data: Uint8Array, frameCodec: MediaCodec, captureMs: number | undefined) => {
        if (muted || ctx.client.state !== 'open') return false;
        const frame = encodeMediaFrame({ codec: frameCodec, keyframe: true, seq: seq++ >>> 0, captureMs: captureMs ?? Date.now(), sender: '', data });
        return media.send(frame);
      };

      // The listen request needs the codec settled; the mute state is re-sent after a resume in case it was lost.
      // A server without the audio-mix plugin has no audio channels: then there is nothing to ask for.
      ctx.on('welcome', () => (offered = undefined)); // a new session: its server announces its codecs again
      ctx.on('welcome', () => void ready.then(() => {
        if (!ctx.client.channels.has(AUDIO_CONTROL.name)) return;
        sendListen();
        if (muted) control.send({ op: 'mute', muted: true });
        if (tracks) control.send({ op: 'tracks', on: true });
      }));
      ctx.on('resumed', () => void ready.then(() => {
        if (!ctx.client.channels.has(AUDIO_CONTROL.name)) return;
        sendListen();
        if (tracks) control.send({ op: 'tracks', on: true });
      }));
      ctx.on('peerLeft', (peer) => {
        levels.delete(peer.id);
        mutedPeers.delete(peer.id);
      });

      media.onMessage((bytes) => {
        const decoded = decodeMediaFrame(bytes);
        if (!decoded.ok) return;
        const frame = decoded.frame;
        if (frame.sender !== '') {
          events.emit('track', frame);
          return;
        }
        events.emit('frame', frame);
        if (events.listenerCount('mix') === 0) return;
        const pcm = decodeAudio(frame.codec, frame.data, decoder);
        if (pcm) events.emit('mix', { pcm, seq: frame.seq, captureMs: frame.captureMs, codec: frame.codec === MediaCodec.OPUS ? 'opus' : 'pcm' });
      });

      control.onMessage((message) => {
        if (message.op === 'levels') {
          for (const [peer, level] of Object.entries(message.levels)) {
            if (level <= SILENCE_DBFS) levels.delete(peer);
            else levels.set(peer, level);
          }
          events.emit('levels', message.levels);
        } else if (message.op === 'muted') {
          if (message.muted) mutedPeers.add(message.peer);
          else mutedPeers.delete(message.peer);
          // About ourselves the server has the last word (a moderator may have muted us).
          if (message.peer === ctx.client.self?.id) muted = message.muted;
          events.emit('muted', { peer: message.peer, muted: message.muted });
        } else if (message.op === 'state') {
          for (const peer of message.muted) {
            mutedPeers.add(peer);
            events.emit('muted', { peer, muted: true });
          }
        } else if (message.op === 'listening') {
          events.emit('listening', message.codec);
        } else if (message.op === 'tracks') {
          events.emit('tracks', message.on);
        } else if (message.op === 'codecs') {
          offered = message.codecs.filter((name) => name === 'opus' || name === 'pcm');
          // A listen sent before the announcement is re-sent in a codec the server has (it answered PCM anyway).
          if (asked !== undefined && !offers(asked)) void ready.then(sendListen);
          events.emit('codecs', offered);
        }
      });

      return {
        on: events.on.bind(events),
        off: events.off.bind(events),
        once: events.once.bind(events),
        ready,
        get sendCodec() {
          return encoder && offers('opus') ? 'opus' : 'pcm';
        },
        get serverCodecs() {
          return offered;
        },
        get muted() {
          return muted;
        },
        levels,
        mutedPeers,
        publish(pcm, { captureMs } = {}) {
          if (pcm.length !== FRAME_SAMPLES) throw new RangeError(`a frame has ${FRAME_SAMPLES} samples (20 ms at 48 kHz), not ${pcm.length}`);
          if (encoder && offers('opus')) return sendFrame(encoder.encode(pcm), MediaCodec.OPUS, captureMs);
          return sendFrame(pcmToBytes(pcm), MediaCodec.PCM_S16LE, captureMs);
        },
        publishEncoded(frame, frameCodec, { captureMs } = {}) {
          if (frameCodec === 'pcm') return sendFrame(frame, MediaCodec.PCM_S16LE, captureMs);
          if (offers('opus')) return sendFrame(frame, MediaCodec.OPUS, captureMs);
          if (loaded) ownDecoder ??= loaded.createDecoder();
          const pcm = decodeAudio(MediaCodec.OPUS, frame, ownDecoder);
          return pcm ? sendFrame(pcmToBytes(pcm), MediaCodec.PCM_S16LE, captureMs) : false;
        },
        setMuted(value) {
          if (value === muted) return;
          muted = value;
          if (ctx.client.state === 'open') control.send({ op: 'mute', muted });
        },
        listen(wanted) {
          listening = true;
          if (wanted) requested = wanted;
          void ready.then(sendListen);
        },
        unlisten() {
          listening = false;
          if (ctx.client.state === 'open') control.send({ op: 'unlisten' });
        },
        receiveTracks(on) {
          tracks = on;
          if (ctx.client.state === 'open' && ctx.client.channels.has(AUDIO_CONTROL.name)) control.send({ op: 'tracks', on });
        },
      };
    },
  };
}

/** A 20 ms frame as 960 samples; undefined when it cannot be decoded here (Opus without a decoder, bad size). */
function decodeAudio(codec: MediaCodec, data: Uint8Array, decoder: OpusDecoder | undefined): Int16Array | undefined {
  if (codec === MediaCodec.PCM_S16LE) return data.length === PCM_FRAME_BYTES ? bytesToPcm(data) : undefined;
  if (codec !== MediaCodec.OPUS || !decoder) return undefined;
  const pcm = new Int16Array(FRAME_SAMPLES);
  try {
    decoder.decode(data, pcm);
    return pcm;
  } catch {
    return undefined;
  }
}
