/**
 * The plugin channels as a client sees them: the server's name → id → kind map from WELCOME, encoding of
 * what plugins send, decoding of what arrives, and delivery to the plugins' handlers.
 */
import { ConfabError, isConfabError } from '../errors.js';
import { encodeFrame } from '../frame.js';
import { decodeJsonObject, encodeJson } from '../json.js';
import type { Welcome } from '../protocol.js';
import { Emitter } from './emitter.js';
import type { ChannelInfo, ClientMessage } from './types.js';

/** Messages kept per channel that no plugin handles yet. */
const HELD_PER_CHANNEL = 256;

/** One client's channels. */
export class ClientChannels {
  readonly #maxPayload: number;
  #byName = new Map<string, ChannelInfo>();
  #byId = new Map<number, ChannelInfo>();
  #handlers = new Emitter<Record<string, [ClientMessage]>>();
  /** Messages of reliable channels that no plugin handles yet, for the first handler. */
  #held = new Map<string, ClientMessage[]>();

  /** `maxPayload`: the largest payload `encode` lets through. */
  constructor(maxPayload: number) {
    this.#maxPayload = maxPayload;
  }

  /** The channels by name, from the last WELCOME (empty before). */
  get byName(): ReadonlyMap<string, ChannelInfo> {
    return this.#byName;
  }

  /** Takes the channel map of a WELCOME (already checked: every channel has a kind). */
  update(welcome: Welcome): void {
    const channels = Object.entries(welcome.channels).map(([name, id]) => ({ name, id, kind: welcome.channelKinds[name] }));
    this.#byName = new Map(channels.map((channel) => [channel.name, channel]));
    this.#byId = new Map(channels.map((channel) => [channel.id, channel]));
  }

  /** The channel a frame type id belongs to, if any. */
  byId(type: number): ChannelInfo | undefined {
    return this.#byId.get(type);
  }

  /**
   * Encodes a message as a frame of channel `name`: a JSON object for `json` channels, bytes otherwise.
   * Throws UNKNOWN_CHANNEL, INVALID_PAYLOAD or FRAME_TOO_LARGE (all non-fatal).
   */
  encode(name: string, message: object | Uint8Array): { channel: ChannelInfo; frame: Uint8Array } {
    const channel = this.#byName.get(name);
    if (!channel) {
      const known = [...this.#byName.keys()].join(', ') || 'none';
      const text = `the server has no channel "${name}" (is its plugin installed on the server?); its channels: ${known}`;
      throw new ConfabError('UNKNOWN_CHANNEL', text, { fatal: false });
    }
    const isBytes = message instanceof Uint8Array;
    const isObject = typeof message === 'object' && message !== null && !Array.isArray(message) && !isBytes;
    if (channel.kind === 'json' ? !isObject : !isBytes) {
      const expected = channel.kind === 'json' ? 'a JSON object, like { op: "…" }' : 'a Uint8Array';
      throw new ConfabError('INVALID_PAYLOAD', `channel "${name}" is ${channel.kind}: send ${expected}`, { fatal: false });
    }
    const payload = isBytes ? message : encodeJson(message);
    if (payload.length > this.#maxPayload) {
      const text = `a ${payload.length}-byte message on "${name}" exceeds maxPayload (${this.#maxPayload})`;
      throw new ConfabError('FRAME_TOO_LARGE', text, { fatal: false });
    }
    return { channel, frame: encodeFrame(channel.id, payload) };
  }

  /**
   * Decodes a channel frame and hands it to the channel's handlers; a reliable channel without any keeps it
   * for the first one. Returns the error for a frame it cannot take (unknown type id, bad JSON).
   */
  receive(type: number, payload: Uint8Array): ConfabError | undefined {
    const channel = this.#byId.get(type);
    if (!channel) {
      const hex = `0x${type.toString(16).padStart(2, '0')}`;
      return new ConfabError('UNKNOWN_FRAME_TYPE', `frame type ${hex} is no core frame and no channel of WELCOME`);
    }
    let message: ClientMessage = payload;
    if (channel.kind === 'json') {
      const decoded = decodeJsonObject(payload);
      if (isConfabError(decoded)) {
        decoded.channel = channel.name;
        return decoded;
      }
      message = decoded;
    }
    if (!this.#held.has(channel.name) && this.#handlers.listenerCount(channel.name) > 0) {
      this.#handlers.emit(channel.name, message);
    } else if (channel.kind !== 'media') {
      const held = this.#held.get(channel.name) ?? [];
      if (held.push(message) > HELD_PER_CHANNEL) held.shift();
      this.#held.set(channel.name, held);
    }
    return undefined;
  }

  /**
   * Adds a handler for channel `name`. Messages held for the channel reach it in a microtask, so a plugin's
   * `attach` has returned before its handler runs.
   */
  handle(name: string, handler: (message: ClientMessage) => void): void {
    this.#handlers.on(name, handler);
    if (!this.#held.has(name)) return;
    queueMicrotask(() => {
      const held = this.#held.get(name) ?? [];
      this.#held.delete(name);
      for (const message of held) this.#handlers.emit(name, message);
    });
  }

  /** Drops the held messages (the client closed). */
  clear(): void {
    this.#held.clear();
  }
}
