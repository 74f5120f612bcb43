/**
 * The server's sessions, findable by id, by resume token (a HELLO that resumes) and by media token (a UDP
 * datagram). One place adds a session and one forgets it, so the three indexes never disagree.
 */
import { randomBytes } from 'node:crypto';
import type { Session } from './session.js';

/** Sessions by id, resume token and media token. */
export class SessionRegistry {
  readonly #byId = new Map<string, Session>();
  readonly #byResumeToken = new Map<string, Session>();
  readonly #byMediaToken = new Map<string, Session>();

  /** Every session (active and detached) by id. */
  get byId(): ReadonlyMap<string, Session> {
    return this.#byId;
  }

  /** How many sessions there are. */
  get size(): number {
    return this.#byId.size;
  }

  /** Adds a new session under its id and both tokens. */
  add(session: Session): void {
    this.#byId.set(session.id, session);
    this.#byResumeToken.set(session.resumeToken, session);
    this.#byMediaToken.set(session.mediaToken, session);
  }

  /** Forgets a session; false when it was not (or no longer) this registry's. */
  remove(session: Session): boolean {
    if (this.#byId.get(session.id) !== session) return false;
    this.#byId.delete(session.id);
    this.#byResumeToken.delete(session.resumeToken);
    this.#byMediaToken.delete(session.mediaToken);
    return true;
  }

  /** The session a resume token belongs to. */
  byResumeToken(token: string): Session | undefined {
    return this.#byResumeToken.get(token);
  }

  /** The active session a media token belongs to (a detached one takes no datagrams). */
  activeByMediaToken(token: string): Session | undefined {
    const session = this.#byMediaToken.get(token);
    return session?.state === 'active' ? session : undefined;
  }

  /** Gives a resumed session a new resume token (each one is used once), and returns it. */
  renewResumeToken(session: Session): string {
    this.#byResumeToken.delete(session.resumeToken);
    session.resumeToken = randomToken(24);
    this.#byResumeToken.set(session.resumeToken, session);
    return session.resumeToken;
  }
}

/** A random token of `bytes` bytes, base64url. */
export function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}
