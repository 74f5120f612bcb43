/**
 * JSON payloads: strict UTF-8 decoding and "must be an object" checks, shared by server and client.
 */
import { ConfabError } from './errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** A JSON object as it came off the wire: untrusted until a parser checks its fields. */
export type JsonObject = Record<string, unknown>;

/** Deepest nesting of arrays and objects `decodeJsonObject` accepts unless told otherwise. */
export const DEFAULT_MAX_JSON_DEPTH = 64;

/**
 * Decodes a payload as a UTF-8 JSON object nested at most `maxDepth` deep. Returns a ConfabError value
 * (INVALID_UTF8, INVALID_JSON, JSON_TOO_DEEP), never throws.
 */
export function decodeJsonObject(payload: Uint8Array, maxDepth = DEFAULT_MAX_JSON_DEPTH): JsonObject | ConfabError {
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return new ConfabError('INVALID_UTF8');
  }
  const depth = nestingDepth(text, maxDepth);
  if (depth > maxDepth) return new ConfabError('JSON_TOO_DEEP', `the JSON is nested more than ${maxDepth} levels deep`);
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

/**
 * How deep arrays and objects nest in JSON text, counted without parsing (brackets inside strings do not
 * count); stops counting once past `limit`, so a hostile payload costs one pass at most.
 */
function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** Encodes a value as UTF-8 JSON bytes. */
export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}
