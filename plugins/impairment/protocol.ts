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

/** The channel name. */
export const IMPAIRMENT_CHANNEL = 'impairment';

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

/** The impairment plugin's error codes. */
export const IMPAIRMENT_ERRORS = {
  IMPAIRMENT_BAD_REQUEST: 'send {"op":"set",…rule}, {"op":"clear","session"?} or {"op":"get"}; see RULE_LIMITS for ranges',
  IMPAIRMENT_NOT_ALLOWED: 'changing or reading impairment rules needs the moderate grant',
  IMPAIRMENT_NO_SUCH_SESSION: 'no session with this id in this room',
} as const;
