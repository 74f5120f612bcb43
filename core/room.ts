/**
 * A room: a named group of sessions, created on first join and disposed when its last member leaves.
 * Rooms are fully isolated: every plugin message is scoped to the sender's room.
 */
import { encodeJsonFrame } from './frame.js';
import { QUIET_CLIENT_KIND, type PeerInfo } from './protocol.js';
import type { Session } from './session.js';

/** Longest room and display name, in characters. */
export const MAX_NAME_LENGTH = 64;

/** One room and its members. */
export class Room {
  /** The room's name, as clients give it in HELLO. */
  readonly name: string;
  /** When the room was created (ms since epoch). */
  readonly createdAt = Date.now();
  #members = new Map<string, Session>();
  #names = new Set<string>();

  constructor(name: string) {
    this.name = name;
  }

  /** Number of members, including detached sessions waiting for a resume. */
  get size(): number {
    return this.#members.size;
  }

  /** The members, in join order. */
  get sessions(): IterableIterator<Session> {
    return this.#members.values();
  }

  /** The member with this session id. */
  get(id: string): Session | undefined {
    return this.#members.get(id);
  }

  /** The member with this display name. */
  findByName(name: string): Session | undefined {
    for (const session of this.#members.values()) if (session.name === name) return session;
    return undefined;
  }

  /** The members as peers see them (quiet sessions, QUIET_CLIENT_KIND, are not listed), optionally leaving one out. */
  peers(except?: Session): PeerInfo[] {
    const peers: PeerInfo[] = [];
    for (const session of this.#members.values()) {
      if (session !== except && session.clientKind !== QUIET_CLIENT_KIND) peers.push(session.info);
    }
    return peers;
  }

  /**
   * A display name not taken in this room: `alice`, else `alice_1`, `alice_2`, … (the seeds' rule), shortened
   * where needed so it stays within MAX_NAME_LENGTH.
   */
  uniqueName(requested: string): string {
    if (!this.#names.has(requested)) return requested;
    for (let n = 1; ; n++) {
      const suffix = `_${n}`;
      const candidate = requested.slice(0, MAX_NAME_LENGTH - suffix.length) + suffix;
      if (!this.#names.has(candidate)) return candidate;
    }
  }

  /** Adds a session whose name was made unique with `uniqueName`. Called by the server. */
  add(session: Session): void {
    this.#members.set(session.id, session);
    this.#names.add(session.name);
  }

  /** Removes a session. Called by the server. */
  remove(session: Session): void {
    if (this.#members.get(session.id) !== session) return;
    this.#members.delete(session.id);
    this.#names.delete(session.name);
  }

  /**
   * Sends one already-encoded frame to every member but `except` (and, with `filter`, only to members it
   * accepts; it is called once per member). Reliable frames are kept for resume; media frames may be dropped
   * for a slow member. Returns how many members it was sent to.
   */
  sendFrame(frame: Uint8Array, options: { except?: Session; filter?: (session: Session) => boolean; media?: { stream: string; keyframe?: boolean } } = {}): number {
    let sent = 0;
    for (const session of this.#members.values()) {
      if (session === options.except) continue;
      if (options.filter && !options.filter(session)) continue;
      if (options.media) session.sendMediaFrame(frame, options.media.stream, options.media.keyframe ?? false);
      else session.sendReliableFrame(frame);
      sent++;
    }
    return sent;
  }

  /** Sends a core JSON frame (PEER_JOINED, PEER_LEFT…) to every member but `except`. */
  sendCore(type: number, value: unknown, except?: Session): void {
    this.sendFrame(encodeJsonFrame(type, value), { except });
  }
}
