/**
 * The other participants of the room as a client knows them, by session id, and how two lists differ
 * (after a resume or a rejoin, the client compares the room it left with the room it finds).
 */
import type { Peer } from './types.js';

/** Who left and who joined between two peer lists, by session id. */
export interface PeerDiff {
  left: Peer[];
  joined: Peer[];
}

/** The room's other members. */
export class PeerList {
  #peers = new Map<string, Peer>();

  /** The members by session id. */
  get map(): ReadonlyMap<string, Peer> {
    return this.#peers;
  }

  /** Takes a WELCOME's list; returns who left and who joined compared with the list before. */
  replace(peers: readonly Peer[]): PeerDiff {
    const before = this.#peers;
    this.#peers = new Map(peers.map(({ id, name }) => [id, { id, name }]));
    return {
      left: [...before.values()].filter((peer) => !this.#peers.has(peer.id)),
      joined: [...this.#peers.values()].filter((peer) => !before.has(peer.id)),
    };
  }

  /** A PEER_JOINED: the member added, or undefined when it was known already (a replay). */
  add(peer: Peer): Peer | undefined {
    if (this.#peers.has(peer.id)) return undefined;
    const joined = { id: peer.id, name: peer.name };
    this.#peers.set(joined.id, joined);
    return joined;
  }

  /** A PEER_LEFT: the member removed, or undefined when it was not known. */
  remove(id: string): Peer | undefined {
    const known = this.#peers.get(id);
    this.#peers.delete(id);
    return known;
  }
}
