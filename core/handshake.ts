/**
 * HELLO validation: turns the first frame's payload into a ValidHello or a fatal ConfabError.
 */
import { ConfabError } from './errors.js';
import { decodeJsonObject } from './json.js';
import { PROTOCOL_VERSION } from './protocol.js';
import { MAX_NAME_LENGTH } from './room.js';
import type { ValidHello } from './types.js';

/** The room a HELLO without `room` joins. */
export const DEFAULT_ROOM = 'default';

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Parses and checks a HELLO payload. Every error returned is fatal to the connection. */
export function parseHello(payload: Uint8Array): ValidHello | ConfabError {
  const value = decodeJsonObject(payload);
  if (value instanceof ConfabError) return new ConfabError('HELLO_INVALID', `HELLO: ${value.message}`);
  if (value.v !== PROTOCOL_VERSION) {
    return new ConfabError('UNSUPPORTED_VERSION', `HELLO asks for protocol v${String(value.v)}; this server speaks v${PROTOCOL_VERSION}`);
  }
  const name = checkName('name', value.name);
  if (name instanceof ConfabError) return name;
  const room = value.room === undefined ? DEFAULT_ROOM : checkName('room', value.room);
  if (room instanceof ConfabError) return room;
  const hello: ValidHello = { v: PROTOCOL_VERSION, name, room };
  for (const field of ['token', 'password', 'resume', 'client'] as const) {
    const text = value[field];
    if (text === undefined) continue;
    if (typeof text !== 'string' || text.length > 4096) {
      return new ConfabError('HELLO_INVALID', `HELLO field "${field}" must be a string of at most 4096 characters`);
    }
    hello[field] = text;
  }
  if (value.received !== undefined) {
    if (!Number.isSafeInteger(value.received) || (value.received as number) < 0) {
      return new ConfabError('HELLO_INVALID', 'HELLO field "received" must be a whole number ≥ 0');
    }
    hello.received = value.received as number;
  }
  return hello;
}

function checkName(field: 'name' | 'room', value: unknown): string | ConfabError {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text.length === 0 || text.length > MAX_NAME_LENGTH || CONTROL_CHARACTERS.test(text)) {
    return new ConfabError('HELLO_INVALID',
      `HELLO field "${field}" must be 1 to ${MAX_NAME_LENGTH} characters without control characters`);
  }
  return text;
}
