/**
 * Grants: what a session may do. Every session starts with all of them (the built-in ones and those the
 * server's plugins declare); the auth plugin narrows them from the session's token, and moderation takes some
 * away (a muted session loses `publish:audio`). Each plugin checks the grant it needs before acting on a
 * session's message (a session without `publish:video` has its video dropped, never relayed).
 *
 * A plugin declares grants of its own in `definePlugin({ grants: ['countdown:start'] })`: named
 * `<plugin name>:<action>`, they go into tokens (`confab token --grant countdown:start`) like built-in ones,
 * and an unknown grant is refused where it is named (at start-up, at minting).
 */

/** The built-in grants, in the order `confab token --grant` lists them. */
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

/** A built-in grant. */
export type BuiltinGrant = (typeof GRANTS)[number];

/** A plugin's own grant: `<plugin name>:<action>` (`countdown:start`). */
export type PluginGrant = `${string}:${string}`;

/** One grant. */
export type Grant = BuiltinGrant | PluginGrant;

/** How a plugin's grant is spelled: lowercase words, one `:` after the plugin's name. */
const PLUGIN_GRANT = /^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$/;

/** A new set with every built-in grant. */
export function allGrants(): Set<Grant> {
  return new Set(GRANTS);
}

/** True when `value` names a built-in grant. */
export function isGrant(value: unknown): value is BuiltinGrant {
  return typeof value === 'string' && (GRANTS as readonly string[]).includes(value);
}

/** True when `value` is a built-in grant or spelled as a plugin's (`<plugin>:<action>`), known or not. */
export function isGrantName(value: unknown): value is Grant {
  return isGrant(value) || (typeof value === 'string' && PLUGIN_GRANT.test(value));
}

/** True when `value` is spelled as a grant of plugin `plugin` (`<plugin>:<action>`). */
export function isPluginGrant(value: unknown, plugin: string): value is PluginGrant {
  return typeof value === 'string' && PLUGIN_GRANT.test(value) && value.startsWith(`${plugin}:`);
}
