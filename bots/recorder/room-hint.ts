/**
 * What the recorder says when the room it joined is empty: the rooms in use on that server, from the web
 * plugin's `/api/rooms` on the same port (plain HTTP or HTTPS as the client URL says), so that a misspelled
 * room name is easy to spot. A server without the web plugin, or one that does not answer within a
 * second, gives no list.
 */
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';

/** A room in use and its number of participants. */
export interface RoomInUse {
  name: string;
  participants: number;
}

/** How long the lookup may take. */
const TIMEOUT_MS = 1000;

/**
 * The rooms in use on the server at `clientUrl` (`tcp://`, `tls://`, `ws://`, `wss://`), or undefined when it
 * does not say.
 *
 * @example
 *   await roomsInUse('tcp://127.0.0.1:5000')  // [{ name: 'lab', participants: 3 }]
 */
export function roomsInUse(clientUrl: string): Promise<RoomInUse[] | undefined> {
  let url: URL;
  try {
    url = new URL(clientUrl);
  } catch {
    return Promise.resolve(undefined);
  }
  const secure = url.protocol === 'tls:' || url.protocol === 'wss:';
  const get = secure ? httpsGet : httpGet;
  return new Promise((resolve) => {
    const request = get(
      { host: url.hostname, port: url.port, path: '/api/rooms', timeout: TIMEOUT_MS, ...(secure ? { rejectUnauthorized: false } : {}) },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body = (body + chunk).slice(0, 256 * 1024)));
        response.on('end', () => resolve(response.statusCode === 200 ? parseRooms(body) : undefined));
        response.on('error', () => resolve(undefined));
      },
    );
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(undefined));
  });
}

/**
 * The sentence the recorder prints about an empty room.
 *
 * @example
 *   emptyRoomHint('lab2', [{ name: 'lab', participants: 3 }])
 *   // 'room "lab2" is empty. Rooms in use: lab (3).'
 */
export function emptyRoomHint(room: string, rooms: RoomInUse[] | undefined): string {
  const others = (rooms ?? []).filter((r) => r.name !== room && r.participants > 0);
  const list = others.length > 0 ? ` Rooms in use: ${others.slice(0, 10).map((r) => `${r.name} (${r.participants})`).join(', ')}.` : rooms ? ' No room is in use.' : '';
  return `room "${room}" is empty.${list}`;
}

function parseRooms(body: string): RoomInUse[] | undefined {
  try {
    const parsed = JSON.parse(body) as { rooms?: unknown };
    if (!Array.isArray(parsed.rooms)) return undefined;
    return parsed.rooms
      .filter((r): r is RoomInUse => typeof r === 'object' && r !== null && typeof (r as RoomInUse).name === 'string' && typeof (r as RoomInUse).participants === 'number');
  } catch {
    return undefined;
  }
}
