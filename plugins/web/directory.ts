/**
 * What `/api/rooms` lists for the join screen: the rooms in use with their number of participants (quiet
 * tool sessions, such as `confab file`, not counted), on every node in cluster mode, and the meetings that
 * have not ended, when a plugin (the scheduler) provides the MEETINGS service.
 */
import type { PluginContext } from '../../core/types.js';
import { MEETINGS } from '../scheduler/service.js';

/** The JSON of `/api/rooms`. */
export interface Directory {
  rooms: Array<{ name: string; participants: number }>;
  meetings: Array<{ title: string; room: string; startMs: number; durationMinutes: number }>;
}

/** Meetings listed at most. */
const MAX_MEETINGS = 20;

/**
 * The rooms in use (busiest first) and the coming meetings (soonest first). The service is looked up on
 * each call, so the web plugin may be listed before the scheduler; without it there are no meetings. In
 * cluster mode the rooms are every node's, from the directory; while it cannot be reached, this node's.
 */
export async function readDirectory(ctx: PluginContext): Promise<Directory> {
  const here = () => [...ctx.rooms()].map((room) => ({ name: room.name, participants: room.peers().length }));
  const listed = ctx.cluster ? await ctx.cluster.rooms().catch(here) : here();
  const rooms = listed.map(({ name, participants }) => ({ name, participants }))
    .sort((a, b) => b.participants - a.participants || a.name.localeCompare(b.name));
  const meetings = (ctx.optionalService(MEETINGS)?.upcomingMeetings() ?? []).slice(0, MAX_MEETINGS)
    .map(({ title, room, startMs, durationMinutes }) => ({ title, room, startMs, durationMinutes }));
  return { rooms, meetings };
}
