/**
 * Decoding and checking of the core frames a server sends the client (WELCOME, PEER_JOINED, PEER_LEFT,
 * ERROR, BYE), so the rest of the client can trust their fields.
 */
import { ConfabError, isConfabError } from '../errors.js';
import { decodeJsonObject, type JsonObject } from '../json.js';
import { FIRST_CHANNEL_ID, LAST_CHANNEL_ID, type ChannelKind, type PeerLeft, type Welcome } from '../protocol.js';

const CHANNEL_KINDS: ReadonlySet<unknown> = new Set<ChannelKind>(['json', 'binary', 'media']);

/** Decodes a WELCOME; a WELCOME the client cannot use is a fatal INVALID_JSON. */
export function parseWelcome(payload: Uint8Array): Welcome | ConfabError {
  const value = decodeJsonObject(payload);
  if (isConfabError(value)) return value;
  const invalid = (what: string) => new ConfabError('INVALID_JSON', `the server's WELCOME is invalid: ${what}`, { fatal: true });
  for (const field of ['session', 'name', 'room', 'resume', 'mediaToken'] as const) {
    if (typeof value[field] !== 'string') return invalid(`"${field}" must be a string`);
  }
  const { heartbeatMs } = value;
  if (typeof heartbeatMs !== 'number' || !(heartbeatMs > 0)) return invalid('"heartbeatMs" must be a positive number');
  const { channels, channelKinds } = value;
  if (!isObject(channels) || !isObject(channelKinds)) return invalid('"channels" and "channelKinds" must be objects');
  for (const [name, id] of Object.entries(channels)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < FIRST_CHANNEL_ID || id > LAST_CHANNEL_ID) {
      return invalid(`channel "${name}" has id ${String(id)}, outside 0x10–0xFF`);
    }
    if (!CHANNEL_KINDS.has(channelKinds[name])) return invalid(`channel "${name}" has no kind (json, binary or media)`);
  }
  if (!Array.isArray(value.peers) || !value.peers.every(isPeer)) return invalid('"peers" must be a list of { id, name }');
  // `plugins` is an addition to v1: an older server sends none.
  const { plugins = [] } = value;
  if (!Array.isArray(plugins) || !plugins.every((name) => typeof name === 'string')) return invalid('"plugins" must be a list of plugin names');
  return { ...(value as unknown as Welcome), plugins: plugins as string[], resumed: value.resumed === true };
}

/** Decodes a PEER_JOINED or PEER_LEFT; `reason` is `unknown` when PEER_LEFT has none. */
export function parsePeer(payload: Uint8Array): PeerLeft | ConfabError {
  const value = decodeJsonObject(payload);
  if (isConfabError(value)) return value;
  if (!isPeer(value)) return new ConfabError('INVALID_JSON', 'PEER_JOINED and PEER_LEFT must carry a string "id" and "name"');
  return { id: value.id, name: value.name, reason: typeof value.reason === 'string' ? value.reason : 'unknown' };
}

/** The ConfabError an ERROR payload describes: the server's code, message, fatality, channel and ref. */
export function errorFromPayload(value: JsonObject): ConfabError {
  const code = typeof value.code === 'string' ? value.code : 'UNKNOWN_ERROR';
  const message = typeof value.message === 'string' ? value.message : undefined;
  const error = new ConfabError(code, message, { fatal: value.fatal === true, retryable: value.retryable === true });
  if (typeof value.channel === 'string') error.channel = value.channel;
  if (typeof value.ref === 'string') error.ref = value.ref;
  return error;
}

/** The reason of a BYE, `bye` when it gives none. */
export function parseByeReason(payload: Uint8Array): string {
  const value = decodeJsonObject(payload);
  return !isConfabError(value) && typeof value.reason === 'string' ? value.reason : 'bye';
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPeer(value: unknown): value is JsonObject & { id: string; name: string } {
  return isObject(value) && typeof value.id === 'string' && typeof value.name === 'string';
}
