/**
 * What the scheduler offers other plugins on the same server, as a typed service: the web plugin lists these
 * meetings on its join screen. A plugin that needs it declares `requires: [MEETINGS]` and calls
 * `ctx.service(MEETINGS)`; one that can do without calls `ctx.optionalService(MEETINGS)` when it needs the
 * meetings (not in setup, since the scheduler may be set up after it).
 */
import { defineService } from '../../core/services.js';
import type { Meeting } from './protocol.js';

/** The scheduler's meetings, read-only. */
export interface MeetingDirectory {
  /** The meetings that have not ended at `now` (default: now), soonest first. */
  upcomingMeetings(now?: number): Meeting[];
}

/**
 * The scheduler's service key.
 *
 * @example
 *   const meetings = ctx.optionalService(MEETINGS)?.upcomingMeetings() ?? [];
 */
export const MEETINGS = defineService<MeetingDirectory>('scheduler:meetings');
