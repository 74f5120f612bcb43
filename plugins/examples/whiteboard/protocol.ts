/**
 * The whiteboard plugin's messages, shared by its server and client halves. One json channel, `whiteboard`.
 *
 * client → server  {"op":"stroke","points":[x0,y0,x1,y1,…],"color":"#1e90ff","width":3}
 *                  {"op":"clear"}
 * server → room    {"op":"stroke","stroke":Stroke}      every stroke, to everyone (the sender too), in order
 *                  {"op":"clear","by":{"id","name"}}
 * server → joiner  {"op":"drawing","strokes":[Stroke…]}  right after WELCOME, oldest first
 * errors           ERROR frames with "channel":"whiteboard" (codes in WHITEBOARD_ERRORS)
 *
 * Coordinates are fractions of the board, 0 to 1 (0,0 top left), so boards of any size agree.
 */

/** The channel name. */
export const WHITEBOARD_CHANNEL = 'whiteboard';

/** A stroke as the server keeps and relays it. */
export interface Stroke {
  /** Room-unique, increasing: later strokes draw over earlier ones. */
  id: number;
  by: { id: string; name: string };
  /** Flat list of x, y pairs, each in 0..1. */
  points: number[];
  /** `#rrggbb`. */
  color: string;
  /** Line width in pixels of a 1000-pixel-wide board, 0.5..50. */
  width: number;
}

/** What the server sends. */
export type WhiteboardServerMessage =
  | { op: 'stroke'; stroke: Stroke }
  | { op: 'clear'; by: { id: string; name: string } }
  | { op: 'drawing'; strokes: Stroke[] };

/** Smallest and largest stroke width. */
export const MIN_WIDTH = 0.5;
export const MAX_WIDTH = 50;

/** The whiteboard plugin's error codes. */
export const WHITEBOARD_ERRORS = {
  WHITEBOARD_BAD_REQUEST: 'send {"op":"stroke","points":[x,y,…],"color":"#rrggbb","width":n} or {"op":"clear"}',
  WHITEBOARD_BAD_STROKE: 'a stroke has 1 to maxPoints x,y pairs in 0..1, a #rrggbb color and a width from 0.5 to 50',
  WHITEBOARD_NOT_ALLOWED: 'clearing the board needs the moderate grant on this server',
} as const;
