/**
 * The web plugin's small JSON routes, as the page reads them: `/api/config` (how to send camera frames),
 * `/api/media` (codec settings: VP8 and Opus bitrates, the screen share) and `/api/rooms` (the rooms in use
 * and the meetings coming up, for the join screen).
 */
import { DEFAULT_MEDIA_CONFIG, type MediaConfig } from '../plugins/web/media-config.js';

export type { MediaConfig, ScreenMediaConfig } from '../plugins/web/media-config.js';

/** `/api/config` (camera frame size, rate and JPEG quality) with `/api/media` as `media`. */
export interface WebConfig {
  video: { width: number; height: number; fps: number; quality: number };
  media: MediaConfig;
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

const DEFAULT_VIDEO: WebConfig['video'] = { width: 640, height: 480, fps: 15, quality: 0.7 };

/** The server's web config (both routes), with the defaults for what cannot be read. */
export async function fetchConfig(): Promise<WebConfig> {
  const [camera, media] = await Promise.all([
    fetchJson<{ video: WebConfig['video'] }>('/api/config'),
    fetchJson<MediaConfig>('/api/media'),
  ]);
  return { video: camera?.video ?? DEFAULT_VIDEO, media: media ?? DEFAULT_MEDIA_CONFIG };
}

async function fetchJson<T>(path: string): Promise<T | undefined> {
  try {
    const response = await fetch(path, { cache: 'no-store' });
    return response.ok ? ((await response.json()) as T) : undefined;
  } catch {
    return undefined;
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
