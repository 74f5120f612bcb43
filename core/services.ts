/**
 * Services: what one plugin offers others, under a typed key, instead of others reaching for the plugin
 * object by name and guessing its shape. The offering plugin declares `provides: [KEY]` and calls
 * `ctx.provide(KEY, implementation)` in its setup; a plugin that needs it declares `requires: [KEY]` and calls
 * `ctx.service(KEY)`; one that can do without calls `ctx.optionalService(KEY)`. The server checks at start-up
 * that every required service is provided by a plugin listed before (as fastify checks dependencies).
 */

/** The typed name of a service. */
export interface ServiceKey<T> {
  /** Unique among services, by convention `<plugin>:<what>` (`scheduler:meetings`). */
  readonly name: string;
  /** Carries the service's type for the compiler only; always undefined. */
  readonly type?: T;
}

/** Any service key, whatever its type. */
export type AnyServiceKey = ServiceKey<unknown>;

/**
 * Names a service and its type.
 *
 * @example
 *   export interface MeetingDirectory { upcomingMeetings(): Meeting[] }
 *   export const MEETINGS = defineService<MeetingDirectory>('scheduler:meetings');
 */
export function defineService<T>(name: string): ServiceKey<T> {
  return { name };
}
