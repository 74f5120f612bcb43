/**
 * The hand-raise plugin's messages, shared by its server and client halves. One json channel, `hands`.
 *
 * client → server  {"op":"raise"}                      puts this session at the end of the queue
 *                  {"op":"lower"}                      takes its own hand down
 *                  {"op":"lower","session":"<id>"}     takes someone else's down (`moderate` grant)
 *                  {"op":"next"}                       calls the first in the queue (`moderate` grant)
 * server → room    {"op":"queue","queue":[HandEntry…]} after every change, and to a joiner, first raised first
 *                  {"op":"called","entry":HandEntry,"by":{"id","name"}}   who was called by `next`
 * errors           ERROR frames with "channel":"hands" (codes in HANDS_ERRORS)
 */
import { defineErrors, jsonChannel, requestRef, type JsonObject } from '../../../core/wire.js';

/** A raised hand. */
export interface HandEntry {
  /** The session id. */
  id: string;
  name: string;
  /** Server time the hand went up, ms since epoch. */
  since: number;
}

/** What a client sends. */
export type HandsRequest =
  | { op: 'raise'; ref?: string }
  | { op: 'lower'; session?: string; ref?: string }
  | { op: 'next'; ref?: string };

/** What the server sends. */
export type HandsMessage =
  | { op: 'queue'; queue: HandEntry[] }
  | { op: 'called'; entry: HandEntry; by: { id: string; name: string } };

/** The hand-raise plugin's error codes. */
export const HANDS_ERRORS = defineErrors('hand-raise', {
  HANDS_BAD_REQUEST: 'send {"op":"raise"}, {"op":"lower","session"?}, or {"op":"next"}',
  HANDS_ALREADY_RAISED: 'this session\'s hand is already up',
  HANDS_NOT_RAISED: 'that hand is not up',
  HANDS_NOT_ALLOWED: 'lowering someone else\'s hand or calling the next one needs the moderate grant',
  HANDS_QUEUE_EMPTY: 'no hand is up',
});

/** Checks what a client sends: a known op with fields of the right types, or HANDS_BAD_REQUEST. */
export function parseHandsRequest(message: JsonObject): HandsRequest {
  const ref = requestRef(message);
  switch (message.op) {
    case 'raise':
    case 'next':
      return { op: message.op, ref };
    case 'lower': {
      const { session } = message;
      if (session === undefined) return { op: 'lower', ref };
      if (typeof session !== 'string') throw HANDS_ERRORS.HANDS_BAD_REQUEST({ ref, message: 'session must be a session id' });
      return { op: 'lower', session, ref };
    }
    default:
      throw HANDS_ERRORS.HANDS_BAD_REQUEST({ ref, message: `unknown op ${JSON.stringify(message.op)}; use raise, lower or next` });
  }
}

/** The hands channel. */
export const HANDS = jsonChannel<HandsRequest, HandsMessage>('hands', { parse: parseHandsRequest, maxPayload: 1024 });
