/**
 * The impairment plugin's messages, shared by its server and client halves. One json channel, `impairment`;
 * changing rules needs the `moderate` grant.
 *
 * client → server  {"op":"set","session"?:"<id>","latencyMs"?:100,"jitterMs"?:30,"loss"?:0.05,"bandwidthKbps"?:500,"seed"?:42}
 *                  {"op":"clear","session"?:"<id>"}
 *                  {"op":"get","ref"?:"g1"}
 * server → room    {"op":"rules","room":Rule|null,"sessions":{"<id>":Rule}}            after every change
 * server → sender  {"op":"rules","room":…,"sessions":…,"stats":{"<id>":ImpairmentStats},"ref"?} answering get
 * errors           ERROR frames with "channel":"impairment" and the request's "ref", if it had one
 *
 * Without `session`, a rule applies to every member of the sender's room; a session's own rule wins over
 * its room's. A rule impairs the media frames the server sends to a session (what it receives).
 */
import { defineErrors, jsonChannel, requestRef, type JsonObject } from '../../core/wire.js';

/** How a session's incoming media is impaired. Every field defaults to 0 (no effect). */
export interface ImpairmentRule {
  /** Added delay, ms (0–10 000). */
  latencyMs: number;
  /** Random extra delay, uniform in ±jitterMs (never below zero in total), ms (0–5000). Frames may reorder. */
  jitterMs: number;
  /** Probability a frame is lost, 0–1. */
  loss: number;
  /** Link speed in kilobits per second; frames queue behind each other. 0 = unlimited. */
  bandwidthKbps: number;
  /** Seed of the random draws (loss first, then jitter, per frame). Default: the plugin's seed. */
  seed: number;
}

/** What happened to the media frames sent to one session since its rule was set. */
export interface ImpairmentStats {
  /** Delivered, after their delay. */
  delivered: number;
  /** Lost at random (`loss`). */
  lost: number;
  /** Dropped because the bandwidth queue was longer than maxQueueMs. */
  overflow: number;
}

/** A rule as a client gives it: the fields it sets, in range; the server fills in the rest. */
export type RuleFields = Partial<ImpairmentRule>;

/** What a client sends; a `set` carries the rule's fields beside its op. */
export type ImpairmentRequest =
  | ({ op: 'set'; session?: string; ref?: string } & RuleFields)
  | { op: 'clear'; session?: string; ref?: string }
  | { op: 'get'; ref?: string };

/** What the server sends. */
export interface ImpairmentRulesMessage {
  op: 'rules';
  room: ImpairmentRule | null;
  sessions: Record<string, ImpairmentRule>;
  stats?: Record<string, ImpairmentStats>;
  /** The `ref` of the `get` this answers. */
  ref?: string;
}

/** Ranges of the rule's fields. */
export const RULE_LIMITS = {
  latencyMs: { min: 0, max: 10_000 },
  jitterMs: { min: 0, max: 5000 },
  loss: { min: 0, max: 1 },
  bandwidthKbps: { min: 0, max: 10_000_000 },
} as const;

/** The largest seed: seeds are 32-bit. */
const MAX_SEED = 2 ** 32 - 1;

/** The impairment plugin's error codes. */
export const IMPAIRMENT_ERRORS = defineErrors('impairment', {
  IMPAIRMENT_BAD_REQUEST: 'send {"op":"set",…rule}, {"op":"clear","session"?} or {"op":"get"}; see RULE_LIMITS for ranges',
  IMPAIRMENT_NOT_ALLOWED: 'changing or reading impairment rules needs the moderate grant',
  IMPAIRMENT_NO_SUCH_SESSION: 'no session with this id in this room',
});

/**
 * Checks what a client sends: a known op, `session` a string when given, and for `set` every other field a
 * rule field within RULE_LIMITS (checkRule); else IMPAIRMENT_BAD_REQUEST saying what was wrong.
 */
export function parseImpairmentRequest(message: JsonObject): ImpairmentRequest {
  const { op, session, ref: _ref, ...fields } = message;
  const ref = requestRef(message);
  const bad = (text: string) => IMPAIRMENT_ERRORS.IMPAIRMENT_BAD_REQUEST({ ref, message: text });
  if (op === 'get') return { op, ref };
  if (op !== 'set' && op !== 'clear') throw bad(`unknown op ${JSON.stringify(op)}; use set, clear or get`);
  if (session !== undefined && typeof session !== 'string') throw bad(`session must be a session id, got ${JSON.stringify(session)}`);
  const target = session === undefined ? {} : { session };
  if (op === 'clear') return { op, ...target, ref };
  const rule = checkRule(fields);
  if (typeof rule === 'string') throw bad(rule);
  return { op, ...rule, ...target, ref };
}

/**
 * Checks a rule's fields (each optional): the fields it sets, or what is wrong with it. Used for what
 * clients send and for the rules in the plugin's options.
 */
export function checkRule(fields: JsonObject): RuleFields | string {
  const rule: RuleFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'seed') {
      if (!isIntegerIn(value, 0, MAX_SEED)) return 'seed must be an integer from 0 to 2^32 - 1';
      rule.seed = value;
      continue;
    }
    if (!isLimited(key)) return `${key} is not a rule field; use latencyMs, jitterMs, loss, bandwidthKbps and seed`;
    const limits = RULE_LIMITS[key];
    if (typeof value !== 'number' || !(value >= limits.min && value <= limits.max)) {
      return `${key} must be a number from ${limits.min} to ${limits.max}, got ${JSON.stringify(value)}`;
    }
    rule[key] = value;
  }
  return rule;
}

function isLimited(key: string): key is keyof typeof RULE_LIMITS {
  return Object.hasOwn(RULE_LIMITS, key);
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** The impairment channel. */
export const IMPAIRMENT = jsonChannel<ImpairmentRequest, ImpairmentRulesMessage>('impairment', { parse: parseImpairmentRequest, maxPayload: 4096 });
