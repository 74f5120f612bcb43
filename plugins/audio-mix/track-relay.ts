/**
 * The speakers' own frames, for the sessions of a room that asked for them (`{"op":"tracks","on":true}`): a
 * recorder that writes each participant's voice as it was sent, as LiveKit's track egress does. A frame is
 * relayed exactly as it arrived (Opus or PCM, never re-encoded) with the speaker's id in the media header,
 * and only once the mixer took it, so a muted speaker's frames, late ones and duplicates are not relayed.
 *
 * Cheap per frame: nothing at all in a room without track listeners; otherwise one header rewrite and one
 * frame encode, shared by every listener.
 */
import { encodeFrame, withSender, type MediaFrame } from '../../core/wire.js';
import type { Session } from '../../core/index.js';

/**
 * One room's track listeners.
 *
 * @example
 *   const tracks = ctx.perRoom(() => new TrackListeners());
 *   tracks.get(room).set(session, true);
 *   const sent = tracks.get(speaker.room).forward(speaker, frame, media.id);
 */
export class TrackListeners {
  readonly #sessions = new Set<Session>();

  /** How many sessions listen. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Starts (`on`) or stops sending a session the speakers' own frames. */
  set(session: Session, on: boolean): void {
    if (on) this.#sessions.add(session);
    else this.#sessions.delete(session);
  }

  /**
   * Sends one frame of `speaker` to every listener but the speaker itself (and any that lost `subscribe`),
   * on channel `channelId` as media stream `audio-track:<speaker id>`; returns how many it was sent to.
   */
  forward(speaker: Session, frame: MediaFrame, channelId: number): number {
    if (this.#sessions.size === 0 || (this.#sessions.size === 1 && this.#sessions.has(speaker))) return 0;
    const relayed = encodeFrame(channelId, withSender(frame, speaker.id));
    const stream = `audio-track:${speaker.id}`;
    let sent = 0;
    for (const listener of this.#sessions) {
      if (listener === speaker || !listener.grants.has('subscribe')) continue;
      listener.sendMediaFrame(relayed, stream, true);
      sent++;
    }
    return sent;
  }
}
