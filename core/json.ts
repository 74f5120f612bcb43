/**
 * JSON payloads: strict UTF-8 decoding and "must be an object" checks, shared by server and client.
 */
import { ConfabError } from './errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** A JSON object as it came off the wire: untrusted until a parser checks its fields. */
export type JsonObject = Record<string, unknown>;

/**
 * Decodes a payload as a UTF-8 JSON object. Returns a ConfabError value (INVALID_UTF8 or INVALID_JSON),
 * never throws.
 */
export function decodeJsonObject(payload: Uint8Array): JsonObject | ConfabError {
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return new ConfabError('INVALID_UTF8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return new ConfabError('INVALID_JSON', `the payload is not JSON: ${reason}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return new ConfabError('INVALID_JSON', 'the payload must be a JSON object, like {"op":"…"}');
  }
  return value as JsonObject;
}

/** Encodes a value as UTF-8 JSON bytes. */
export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}
