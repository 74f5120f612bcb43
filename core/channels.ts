/**
 * Channels: the server assigns each plugin channel a type id (0x10, 0x11, … in plugin order), announces the
 * map in WELCOME, and gives plugins a typed handle to send on it and receive from it: what a client sends
 * goes through the channel's `parse` (core/channel-def.ts) before the plugin's handler sees it.
 */
import { requestRef } from './channel-def.js';
import { ConfabError, isConfabError } from './errors.js';
import { encodeFrame, encodeJsonFrame } from './frame.js';
import type { ServerHooks } from './hooks.js';
import type { Metrics } from './metrics.js';
import { FIRST_CHANNEL_ID, type ChannelKind } from './protocol.js';
import type { Room } from './room.js';
import type { Session } from './session.js';
import type { JsonObject } from './json.js';
import type { Channel, ChannelMessage, MediaSendOptions, OutgoingPayload, Plugin } from './types.js';

/** A channel as the server knows it. */
export interface ChannelDefinition {
  name: string;
  kind: ChannelKind;
  id: number;
  maxPayload: number;
  plugin: string;
  /** Checks a client's json message (from the plugin's channel definition); none for bytes. */
  parse: ((message: JsonObject) => unknown) | undefined;
  /** The field that names a request (its value is an ERROR's `ref`). */
  refField: string;
}



/** Every channel of every plugin, by name and by type id. */
export class ChannelRegistry {
  readonly byName = new Map<string, ChannelDefinition>();
  readonly byId = new Map<number, ChannelDefinition>();

  constructor(plugins: Plugin[], serverMaxPayload: number) {
    let id = FIRST_CHANNEL_ID;
    for (const plugin of plugins) {
      for (const { name, kind, maxPayload, parse, refField } of plugin.channels ?? []) {
        const definition = { name, kind, id: id++, maxPayload: Math.min(maxPayload ?? serverMaxPayload, serverMaxPayload), plugin: plugin.name, parse, refField: refField ?? 'ref' };
        this.byName.set(name, definition);
        this.byId.set(definition.id, definition);
      }
    }
  }

  /** Channel name → type id, as WELCOME carries it. */
  ids(): Record<string, number> {
    return Object.fromEntries([...this.byName.values()].map((c) => [c.name, c.id]));
  }

  /** Channel name → kind, as WELCOME carries it. */
  kinds(): Record<string, ChannelKind> {
    return Object.fromEntries([...this.byName.values()].map((c) => [c.name, c.kind]));
  }
}

/** Creates the handle a plugin uses to send on, and receive from, one of its channels. */
export function createChannel(definition: ChannelDefinition, hooks: ServerHooks, metrics: Metrics): Channel {
  const { name, kind, id } = definition;

  const encode = (message: OutgoingPayload): Uint8Array => {
    if (kind === 'json') return encodeJsonFrame(id, message);
    if (!(message instanceof Uint8Array)) throw new ConfabError('INVALID_PAYLOAD', `channel "${name}" is ${kind}: send a Uint8Array`);
    return encodeFrame(id, message);
  };

  const mediaOptions = (media: MediaSendOptions | undefined): MediaSendOptions | undefined => {
    if (kind !== 'media') return undefined;
    if (!media) throw new ConfabError('INVALID_PAYLOAD', `channel "${name}" is media: give { stream } so frames of a stream can replace each other`);
    return media;
  };

  return {
    name,
    kind,
    id,
    send(session: Session, message: OutgoingPayload, media?: MediaSendOptions) {
      if (hooks.outgoing.isUsed()) {
        const result = hooks.outgoing.call({ channel: name, room: session.room, to: session, message });
        if (result === false) return;
        message = result.message;
      }
      const frame = encode(message);
      const options = mediaOptions(media);
      if (options) session.sendMediaFrame(frame, options.stream, options.keyframe ?? false);
      else session.sendReliableFrame(frame);
      metrics.add(metrics.framesOut, name);
    },
    broadcast(room: Room, message: OutgoingPayload, options: { except?: Session; filter?: (session: Session) => boolean; media?: MediaSendOptions } = {}) {
      if (hooks.outgoing.isUsed()) {
        const result = hooks.outgoing.call({ channel: name, room, except: options.except, message });
        if (result === false) return;
        message = result.message;
      }
      const frame = encode(message);
      const sent = room.sendFrame(frame, { except: options.except, filter: options.filter, media: mediaOptions(options.media) });
      metrics.add(metrics.framesOut, name, sent);
    },
    onMessage(handler: (session: Session, request: ChannelMessage) => void) {
      const parse = definition.parse;
      hooks.message.for(name).tap(definition.plugin, (session, message) => {
        try {
          handler(session, parse ? (parse(message as JsonObject) as ChannelMessage) : message);
        } catch (error) {
          // A refusal names the request it refuses: the client's `ref`, when the message had one.
          if (isConfabError(error) && error.ref === undefined && !(message instanceof Uint8Array)) error.ref = requestRef(message, definition.refField);
          throw error;
        }
      });
    },
  };
}
