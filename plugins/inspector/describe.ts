/**
 * What the trace says about a frame's payload beyond its size: for JSON payloads (json channels and the
 * core's JSON frames) the `op`, a short excerpt of the text, and for an ERROR frame its code and the channel
 * it names. Bytes of binary and media frames are not looked into.
 */
import { FrameType } from '../../core/wire.js';
import type { TraceRecord } from './trace.js';

/** The core frames whose payload is a JSON object. */
const JSON_CORE_FRAMES = new Set<number>([FrameType.HELLO, FrameType.WELCOME, FrameType.ERROR, FrameType.PEER_JOINED, FrameType.PEER_LEFT, FrameType.BYE]);
/** Largest JSON payload parsed for its `op` or its error code; a larger one only gets its excerpt. */
const MAX_PARSE_BYTES = 64 * 1024;
/** Characters of a JSON payload kept in the record's `excerpt`. */
export const EXCERPT_LENGTH = 120;
/** Longest `op` or code kept. */
const MAX_NAME_LENGTH = 64;
const decoder = new TextDecoder();

/** What a record adds for its payload. */
export type PayloadSummary = Pick<TraceRecord, 'op' | 'excerpt' | 'code' | 'errorChannel'>;

/**
 * Summarises a payload of frame type `type`; `json` says the type is a json channel. Empty for binary and
 * media payloads, and for anything that is not valid JSON but its excerpt.
 *
 * @example
 *   summarisePayload(FrameType.ERROR, bytes, false)
 *   // { excerpt: '{"code":"CHAT_TEXT_TOO_LONG","message":"text is 5000…', code: 'CHAT_TEXT_TOO_LONG', errorChannel: 'chat' }
 */
export function summarisePayload(type: number, payload: Uint8Array, json: boolean): PayloadSummary {
  if (!json && !JSON_CORE_FRAMES.has(type)) return {};
  // Four bytes at most per character: the excerpt never needs more of a large payload.
  const text = decoder.decode(payload.length <= MAX_PARSE_BYTES ? payload : payload.subarray(0, EXCERPT_LENGTH * 4));
  const summary: PayloadSummary = {};
  if (text.length > 0) summary.excerpt = text.slice(0, EXCERPT_LENGTH);
  const value = payload.length <= MAX_PARSE_BYTES ? parseObject(text) : undefined;
  if (!value) return summary;
  if (json && typeof value.op === 'string') summary.op = value.op.slice(0, MAX_NAME_LENGTH);
  if (type === FrameType.ERROR) {
    if (typeof value.code === 'string') summary.code = value.code.slice(0, MAX_NAME_LENGTH);
    if (typeof value.channel === 'string') summary.errorChannel = value.channel.slice(0, MAX_NAME_LENGTH);
  }
  return summary;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
