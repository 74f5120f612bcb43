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

/** The channel name. */
export const HANDS_CHANNEL = 'hands';

/** A raised hand. */
export interface HandEntry {
  /** The session id. */
  id: string;
  name: string;
  /** Server time the hand went up, ms since epoch. */
  since: number;
}

/** What the server sends. */
export type HandsServerMessage =
  | { op: 'queue'; queue: HandEntry[] }
  | { op: 'called'; entry: HandEntry; by: { id: string; name: string } };

/** The hand-raise plugin's error codes. */
export const HANDS_ERRORS = {
  HANDS_BAD_REQUEST: 'send {"op":"raise"}, {"op":"lower","session"?}, or {"op":"next"}',
  HANDS_ALREADY_RAISED: 'this session\'s hand is already up',
  HANDS_NOT_RAISED: 'that hand is not up',
  HANDS_NOT_ALLOWED: 'lowering someone else\'s hand or calling the next one needs the moderate grant',
  HANDS_QUEUE_EMPTY: 'no hand is up',
} as const;
