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
import { defineErrors, jsonChannel, requestRef, type JsonObject } from '../../../core/wire.js';

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

/** What a client sends. */
export type WhiteboardRequest =
  | { op: 'stroke'; points: number[]; color: string; width: number; ref?: string }
  | { op: 'clear'; ref?: string };

/** What the server sends. */
export type WhiteboardMessage =
  | { op: 'stroke'; stroke: Stroke }
  | { op: 'clear'; by: { id: string; name: string } }
  | { op: 'drawing'; strokes: Stroke[] };

/** Smallest stroke width. */
export const MIN_WIDTH = 0.5;
/** Largest stroke width. */
export const MAX_WIDTH = 50;

/** The whiteboard plugin's error codes. */
export const WHITEBOARD_ERRORS = defineErrors('whiteboard', {
  WHITEBOARD_BAD_REQUEST: 'send {"op":"stroke","points":[x,y,…],"color":"#rrggbb","width":n} or {"op":"clear"}',
  WHITEBOARD_BAD_STROKE: 'a stroke has 1 to maxPoints x,y pairs in 0..1, a #rrggbb color and a width from 0.5 to 50',
  WHITEBOARD_NOT_ALLOWED: 'clearing the board needs the moderate grant on this server',
});

const COLOR = /^#[0-9a-f]{6}$/i;

/**
 * Checks what a client sends: a known op (else WHITEBOARD_BAD_REQUEST), and a stroke of x,y pairs in 0..1, a
 * `#rrggbb` color and a width from MIN_WIDTH to MAX_WIDTH (else WHITEBOARD_BAD_STROKE). The server checks the
 * number of points, which is its option.
 */
export function parseWhiteboardRequest(message: JsonObject): WhiteboardRequest {
  const ref = requestRef(message);
  const bad = (text: string) => WHITEBOARD_ERRORS.WHITEBOARD_BAD_STROKE({ ref, message: text });
  switch (message.op) {
    case 'clear':
      return { op: 'clear', ref };
    case 'stroke': {
      const { points, color, width } = message;
      if (!Array.isArray(points) || points.length < 2 || points.length % 2 !== 0 || !points.every(isFraction)) {
        throw bad('points must be x,y pairs, each number from 0 to 1');
      }
      if (typeof color !== 'string' || !COLOR.test(color)) throw bad('color must be #rrggbb');
      if (typeof width !== 'number' || !(width >= MIN_WIDTH && width <= MAX_WIDTH)) throw bad(`width must be a number from ${MIN_WIDTH} to ${MAX_WIDTH}`);
      return { op: 'stroke', points, color, width, ref };
    }
    default:
      throw WHITEBOARD_ERRORS.WHITEBOARD_BAD_REQUEST({ ref, message: `unknown op ${JSON.stringify(message.op)}; use stroke or clear` });
  }
}

function isFraction(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= 1;
}

/**
 * The whiteboard channel. Its `maxPayload` here fits the default 1000 points; the server half sets it from
 * its `maxPoints` option.
 */
export const WHITEBOARD = jsonChannel<WhiteboardRequest, WhiteboardMessage>('whiteboard', { parse: parseWhiteboardRequest, maxPayload: strokePayloadLimit(1000) });

/** The largest message a stroke of `maxPoints` x,y pairs takes: each coordinate at most ~24 characters of JSON, plus op, color and width. */
export function strokePayloadLimit(maxPoints: number): number {
  return maxPoints * 2 * 25 + 1024;
}
