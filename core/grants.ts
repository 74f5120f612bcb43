/**
 * Grants: what a session may do. Every session starts with all of them; the auth plugin narrows them from
 * the session's token, and moderation takes some away (a muted session loses `publish:audio`). Each plugin
 * checks the grant it needs before acting on a session's message (a session without `publish:video` has
 * its video dropped, never relayed).
 */

/** Every grant, in the order `confab token --grant` lists them. */
export const GRANTS = [
  /** Join the room at all. */
  'join',
  /** Send microphone audio. */
  'publish:audio',
  /** Send camera video. */
  'publish:video',
  /** Share the screen. */
  'publish:screen',
  /** Receive other participants' media. */
  'subscribe',
  /** Send chat messages. */
  'chat',
  /** Share and download files. */
  'files',
  /** Mute, stop, remove participants, lock the room, admit from the lobby. */
  'moderate',
] as const;

/** One grant. */
export type Grant = (typeof GRANTS)[number];

/** A new set with every grant: what a session has when no auth plugin says otherwise. */
export function allGrants(): Set<Grant> {
  return new Set(GRANTS);
}

/** True when `value` names a grant. */
export function isGrant(value: unknown): value is Grant {
  return typeof value === 'string' && (GRANTS as readonly string[]).includes(value);
}
