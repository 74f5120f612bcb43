/**
 * The discovery beacon: one UDP datagram a server broadcasts every few seconds so clients on the LAN find it.
 *
 *   CONFAB-BEACON/1\n{"name":"lab-pc","version":"0.1.0","port":5000,"auth":false,"rooms":2}
 *
 * A line with the magic and the beacon version, then a JSON object. A closing server sends one last beacon
 * with `"closing":true` so clients forget it at once. Anything else — another magic, a datagram over
 * MAX_BEACON_BYTES, bad JSON, a field of the wrong type or out of range — is not a beacon and is ignored.
 */

/** The first bytes of every beacon: the magic and the beacon format version. */
export const BEACON_MAGIC = 'CONFAB-BEACON/1\n';
/** Largest datagram taken as a beacon; bigger ones are ignored unread. */
export const MAX_BEACON_BYTES = 1024;
/** The UDP port beacons go to. */
export const DEFAULT_BEACON_PORT = 5001;
/** How often a server sends a beacon. */
export const DEFAULT_INTERVAL_MS = 5000;
/** How long a client keeps a server listed after its last beacon: three intervals. */
export const DEFAULT_TTL_MS = 15_000;
/** Longest server name and version string in a beacon. */
export const MAX_NAME_LENGTH = 64;
export const MAX_VERSION_LENGTH = 32;

/** What a beacon says about its server. */
export interface Beacon {
  /** The server's name (`server.name`, by default the host name). */
  name: string;
  /** Confab's version on the server. */
  version: string;
  /** The TCP port clients connect to (HTTP, WebSocket, framed TCP). */
  port: number;
  /** True when the server needs a token (it runs a plugin named `auth`). */
  auth: boolean;
  /** How many rooms exist now. */
  rooms: number;
  /** Present and true in the last beacon of a server that is closing. */
  closing?: boolean;
}

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const VERSION_TEXT = /^[0-9A-Za-z.+-]+$/;
const MAGIC_BYTES = new TextEncoder().encode(BEACON_MAGIC);
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The datagram for a beacon. */
export function encodeBeacon(beacon: Beacon): Buffer {
  return Buffer.from(BEACON_MAGIC + JSON.stringify(beacon), 'utf8');
}

/**
 * The beacon a datagram carries, or undefined when it is not a valid one (foreign, oversized, malformed).
 * Fields the format does not know are ignored, so a later version can add some.
 */
export function parseBeacon(datagram: Uint8Array): Beacon | undefined {
  if (datagram.length > MAX_BEACON_BYTES || datagram.length <= MAGIC_BYTES.length) return undefined;
  for (let i = 0; i < MAGIC_BYTES.length; i++) if (datagram[i] !== MAGIC_BYTES[i]) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(datagram.subarray(MAGIC_BYTES.length)));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { name, version, port, auth, rooms, closing } = value as Record<string, unknown>;
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH || CONTROL_CHARACTERS.test(name)) return undefined;
  if (typeof version !== 'string' || version.length > MAX_VERSION_LENGTH || !VERSION_TEXT.test(version)) return undefined;
  if (!isInteger(port) || port < 1 || port > 65535) return undefined;
  if (typeof auth !== 'boolean') return undefined;
  if (!isInteger(rooms) || rooms < 0) return undefined;
  if (closing !== undefined && typeof closing !== 'boolean') return undefined;
  const beacon: Beacon = { name, version, port, auth, rooms };
  if (closing) beacon.closing = true;
  return beacon;
}

function isInteger(value: unknown): value is number {
  return Number.isInteger(value);
}
