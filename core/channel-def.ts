/**
 * Channel definitions: a plugin's `protocol.ts` declares each of its channels once, with the types of what
 * flows each way and the function that checks what clients send. Both halves of the plugin use the same
 * definition, so the server's handlers and the client half are typed end to end and never cast:
 *
 *   server: ctx.channel(POLLS)    → receives PollsRequest (parsed), sends PollsMessage
 *   client: ctx.channel(POLLS)    → sends PollsRequest, receives PollsMessage
 *
 * Works in Node and the browser (no Node imports).
 */
import type { JsonObject } from './json.js';
import type { ChannelKind } from './protocol.js';

/**
 * Turns an untrusted message from a client into the channel's request type, or throws a ConfabError with a
 * stable code naming what was wrong (use the plugin's `defineErrors` factories). Never returns a message it
 * has not checked.
 */
export type ParseRequest<Request> = (message: JsonObject) => Request;

/**
 * One channel of a plugin: its name, kind and payload limit, and the types of what clients send (`Request`)
 * and what the server sends (`Message`).
 */
export interface ChannelDef<Request, Message> {
  readonly name: string;
  readonly kind: ChannelKind;
  /** Largest payload accepted, in bytes; default the server's `maxPayload`. */
  readonly maxPayload?: number;
  /** Checks a client's message on a json channel; bytes on binary and media channels are taken as they are. */
  readonly parse: ((message: JsonObject) => Request) | undefined;
  /**
   * The field of a request that names it (`ref` unless the channel's protocol says otherwise, as chat's
   * `clientId`): the server's answer carries it back, and an ERROR refusing the request carries its value as
   * `ref`. The client SDK's `channel.request()` fills it in.
   */
  readonly refField?: string;
  /** Carries the two types for the compiler only; always undefined. */
  readonly types?: { request: Request; message: Message };
}

/** Any channel definition, whatever its types. */
export type AnyChannelDef = ChannelDef<any, any>;

/** What a client sends on a channel. */
export type RequestOf<Def> = Def extends ChannelDef<infer Request, unknown> ? Request : never;
/** What the server sends on a channel. */
export type MessageOf<Def> = Def extends ChannelDef<unknown, infer Message> ? Message : never;

/** Longest `ref` a client may give a request; a longer one is ignored (not echoed). */
export const MAX_REF_LENGTH = 64;

/**
 * The `ref` of a client's json message (or the field that names requests on its channel), for its parse
 * function to keep: a non-empty string of at most MAX_REF_LENGTH characters, else undefined.
 */
export function requestRef(message: JsonObject, field = 'ref'): string | undefined {
  const ref = message[field];
  return typeof ref === 'string' && ref.length > 0 && ref.length <= MAX_REF_LENGTH ? ref : undefined;
}

/**
 * A json channel: clients send objects that `parse` checks into `Request`; the server sends `Message` objects.
 *
 * @example
 *   export const POLLS = jsonChannel<PollsRequest, PollsMessage>('polls', { parse: parsePollsRequest, maxPayload: 4096 });
 */
export function jsonChannel<Request extends object, Message extends object>(
  name: string,
  options: { parse: ParseRequest<Request>; maxPayload?: number; refField?: string },
): ChannelDef<Request, Message> {
  return { name, kind: 'json', parse: options.parse, maxPayload: options.maxPayload, refField: options.refField };
}

/**
 * The same channel with a payload limit set from a plugin's options (a whiteboard that takes more points
 * takes larger messages); the client half keeps using the definition from protocol.ts.
 *
 * @example
 *   channels: [withLimits(WHITEBOARD, { maxPayload: maxPoints * 32 + 1024 })],
 */
export function withLimits<Request, Message>(definition: ChannelDef<Request, Message>, limits: { maxPayload: number }): ChannelDef<Request, Message> {
  return { ...definition, maxPayload: limits.maxPayload };
}

/**
 * A binary channel: bytes both ways (file chunks), reliable and in order.
 *
 * @example
 *   export const FILES_DATA = binaryChannel('files-data', { maxPayload: 1024 * 1024 + 64 });
 */
export function binaryChannel(name: string, options: { maxPayload?: number } = {}): ChannelDef<Uint8Array, Uint8Array> {
  return { name, kind: 'binary', parse: undefined, maxPayload: options.maxPayload };
}

/**
 * A media channel: media frames both ways (core/media.ts), which a slow receiver may miss.
 *
 * @example
 *   export const VIDEO = mediaChannel('video');
 */
export function mediaChannel(name: string, options: { maxPayload?: number } = {}): ChannelDef<Uint8Array, Uint8Array> {
  return { name, kind: 'media', parse: undefined, maxPayload: options.maxPayload };
}
