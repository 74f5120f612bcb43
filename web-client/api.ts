/**
 * The web plugin's small JSON routes, as the page reads them: `/api/config` (how to send camera frames)
 * and `/api/rooms` (the rooms in use and the meetings coming up, for the join screen).
 */

/** `/api/config`: camera frame size, rate and JPEG quality. */
export interface WebConfig {
  video: { width: number; height: number; fps: number; quality: number };
}

/** A room in use. */
export interface RoomSummary {
  name: string;
  participants: number;
}

/** A meeting that has not ended, as `/api/rooms` lists it. */
export interface MeetingSummary {
  title: string;
  room: string;
  startMs: number;
  durationMinutes: number;
}

/** `/api/rooms`. */
export interface Directory {
  rooms: RoomSummary[];
  meetings: MeetingSummary[];
}

const DEFAULT_CONFIG: WebConfig = { video: { width: 640, height: 480, fps: 15, quality: 0.7 } };

/** The server's web config, or the defaults when it cannot be read. */
export async function fetchConfig(): Promise<WebConfig> {
  try {
    const response = await fetch('/api/config', { cache: 'no-store' });
    return response.ok ? ((await response.json()) as WebConfig) : DEFAULT_CONFIG;
  } catch {
    return DEFAULT_CONFIG;
  }
}

/** The rooms and meetings to offer on the join screen; empty when the server cannot be reached. */
export async function fetchDirectory(): Promise<Directory> {
  try {
    const response = await fetch('/api/rooms', { cache: 'no-store' });
    return response.ok ? ((await response.json()) as Directory) : { rooms: [], meetings: [] };
  } catch {
    return { rooms: [], meetings: [] };
  }
}
