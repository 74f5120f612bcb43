/**
 * What `/api/rooms` lists for the join screen: the rooms in use with their number of participants (quiet
 * tool sessions, such as `confab file`, not counted), and the meetings that have not ended, when the server
 * runs the scheduler plugin.
 */
import type { PluginContext } from '../../core/types.js';

/** The JSON of `/api/rooms`. */
export interface Directory {
  rooms: Array<{ name: string; participants: number }>;
  meetings: Array<{ title: string; room: string; startMs: number; durationMinutes: number }>;
}

/** Meetings listed at most. */
const MAX_MEETINGS = 20;

/** The rooms in use (busiest first) and the coming meetings (soonest first). */
export function readDirectory(ctx: PluginContext): Directory {
  const rooms = [...ctx.rooms()]
    .map((room) => ({ name: room.name, participants: room.peers().length }))
    .sort((a, b) => b.participants - a.participants || a.name.localeCompare(b.name));
  return { rooms, meetings: upcomingMeetings(ctx) };
}

/**
 * What the web plugin needs from a plugin that schedules meetings: `upcomingMeetings()` on its plugin object
 * (the scheduler plugin's `SchedulerPlugin`). Declared here rather than imported so that the web plugin does
 * not depend on the scheduler: without it, or with another plugin under that name, there are no meetings.
 */
interface MeetingSource {
  upcomingMeetings(): Array<{ title: string; room: string; startMs: number; durationMinutes: number }>;
}

/** The scheduler's meetings that have not ended (soonest first), asked from the plugin named `scheduler`. */
function upcomingMeetings(ctx: PluginContext): Directory['meetings'] {
  const source = ctx.plugin('scheduler') as Partial<MeetingSource> | undefined;
  if (typeof source?.upcomingMeetings !== 'function') return [];
  return source.upcomingMeetings().slice(0, MAX_MEETINGS)
    .map(({ title, room, startMs, durationMinutes }) => ({ title, room, startMs, durationMinutes }));
}
