/**
 * What `/api/rooms` lists for the join screen: the rooms in use with their number of participants, and the
 * meetings that have not ended, when the scheduler plugin keeps them in the server's store.
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
    .map((room) => ({ name: room.name, participants: room.size }))
    .sort((a, b) => b.participants - a.participants || a.name.localeCompare(b.name));
  return { rooms, meetings: upcomingMeetings(ctx) };
}

/**
 * The scheduler's meetings that have not ended. Read-only, from the scheduler plugin's table
 * (`scheduler_meetings`, plugins/scheduler/meetings.ts) when it exists: the web plugin does not import the
 * scheduler, and works without it.
 */
function upcomingMeetings(ctx: PluginContext): Directory['meetings'] {
  const db = ctx.store.db;
  const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'scheduler_meetings'").get();
  if (!table) return [];
  const rows = db
    .prepare('SELECT title, room, start_ms AS startMs, duration_minutes AS durationMinutes FROM scheduler_meetings WHERE end_ms > ? ORDER BY start_ms LIMIT ?')
    .all(Date.now(), MAX_MEETINGS) as Directory['meetings'];
  return rows;
}
