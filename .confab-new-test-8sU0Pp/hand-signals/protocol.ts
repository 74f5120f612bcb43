/**
 * The hand-signals plugin's messages, shared by its server and client halves. One json channel, `hand-signals`.
 *
 * client → server  {"op":"add","by":1}                  adds `by` (an integer from -1000 to 1000) to the room's counter
 * server → room    {"op":"count","value":3,"by"?:{"id","name"}}   after every change, and to a joiner
 * errors           ERROR frames with "channel":"hand-signals" (codes in HAND_SIGNALS_ERRORS)
 *
 * This is a starting point: a counter shared by the room. Replace it with your feature.
 */

/** The channel name. */
export const HAND_SIGNALS_CHANNEL = 'hand-signals';

/** What the server sends. */
export interface HandSignalsCount {
  op: 'count';
  value: number;
  /** Who changed it; absent in the message a joiner gets. */
  by?: { id: string; name: string };
}

/** Largest step of one `add`. */
export const MAX_STEP = 1000;

/** The hand-signals plugin's error codes. */
export const HAND_SIGNALS_ERRORS = {
  HAND_SIGNALS_BAD_REQUEST: 'send {"op":"add","by":n} with an integer n from -1000 to 1000',
} as const;
