/**
 * Keyframe requests on their way to publishers, throttled the way mediasoup and LiveKit throttle PLI: a
 * publisher gets at most one request per interval, however many receivers ask. A request within the
 * interval is merged into one sent when it ends, unless a keyframe from the publisher arrives first and
 * answers it.
 */
import type { Session } from './session.js';

/** What became of one request. */
export type KeyframeRequestOutcome = 'forwarded' | 'merged';

/** Per publisher: when a request last went out, and the one waiting for the interval to end. */
interface PublisherRequests {
  sentAt: number;
  pending: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Throttles keyframe requests per publisher.
 *
 * @example
 *   const requests = new KeyframeRequestThrottle(300, (publisher) => control.send(publisher, { op: 'keyframe' }));
 *   requests.request(publisher);            // from a receiver, or the relay itself
 *   requests.keyframeArrived(publisher);    // on every keyframe the publisher sends
 *   requests.forget(publisher);             // when it leaves
 */
export class KeyframeRequestThrottle {
  readonly #intervalMs: number;
  readonly #send: (publisher: Session) => void;
  readonly #publishers = new Map<Session, PublisherRequests>();

  constructor(intervalMs: number, send: (publisher: Session) => void) {
    this.#intervalMs = intervalMs;
    this.#send = send;
  }

  /** Asks `publisher` for a keyframe now, or at the end of its interval. */
  request(publisher: Session): KeyframeRequestOutcome {
    const now = performance.now();
    let state = this.#publishers.get(publisher);
    if (!state) this.#publishers.set(publisher, (state = { sentAt: -Infinity, pending: undefined }));
    if (state.pending !== undefined) return 'merged';
    const wait = state.sentAt + this.#intervalMs - now;
    if (wait <= 0) {
      this.#sendTo(publisher, state);
      return 'forwarded';
    }
    state.pending = setTimeout(() => this.#sendTo(publisher, state), wait);
    return 'merged';
  }

  /** A keyframe arrived from `publisher`: it answers the request waiting for the interval to end. */
  keyframeArrived(publisher: Session): void {
    const state = this.#publishers.get(publisher);
    if (state?.pending === undefined) return;
    clearTimeout(state.pending);
    state.pending = undefined;
  }

  /** Forgets a publisher that left (its waiting request is dropped). */
  forget(publisher: Session): void {
    const state = this.#publishers.get(publisher);
    if (state?.pending !== undefined) clearTimeout(state.pending);
    this.#publishers.delete(publisher);
  }

  /** Drops every waiting request (the server is closing). */
  clear(): void {
    for (const publisher of [...this.#publishers.keys()]) this.forget(publisher);
  }

  #sendTo(publisher: Session, state: PublisherRequests): void {
    state.pending = undefined;
    state.sentAt = performance.now();
    if (publisher.state === 'active') this.#send(publisher);
  }
}
