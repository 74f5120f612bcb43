/**
 * Resource limits that keep one client from taking the server: connections per address and in total, and
 * per-session message rates per channel (token buckets). The other limits live where they act: frame size
 * (frame-decoder.ts), JSON size and depth (dispatch.ts, json.ts), the send queue (session.ts), the HELLO
 * timeout (server.ts). docs/security.md lists them all with their defaults.
 */
import type { ChannelKind } from './protocol.js';
import type { Session } from './session.js';

/**
 * Counts open TCP connections per remote address and in total. The one-port listener asks `admit` for each
 * new socket and closes it at once when it says no; `release` when the socket closes.
 */
export class ConnectionLimiter {
  readonly #max: number;
  readonly #perAddress: number;
  #total = 0;
  #byAddress = new Map<string, number>();

  constructor(max: number, perAddress: number) {
    this.#max = max;
    this.#perAddress = perAddress;
  }

  /** Open connections counted now. */
  get total(): number {
    return this.#total;
  }

  /** Counts a new connection from `address`; false (and not counted) when a limit is reached. */
  admit(address: string): boolean {
    const fromAddress = this.#byAddress.get(address) ?? 0;
    if (this.#total >= this.#max || fromAddress >= this.#perAddress) return false;
    this.#total++;
    this.#byAddress.set(address, fromAddress + 1);
    return true;
  }

  /** Forgets a connection that `admit` counted. */
  release(address: string): void {
    const fromAddress = this.#byAddress.get(address) ?? 0;
    if (fromAddress <= 0) return;
    this.#total--;
    if (fromAddress === 1) this.#byAddress.delete(address);
    else this.#byAddress.set(address, fromAddress - 1);
  }
}

/** Messages per second allowed per session and channel, by channel kind (core frames count as `json`). */
export type MessageRates = Record<ChannelKind, number>;

/** What `RateLimiter.take` decided about one message. */
export type RateVerdict =
  /** Within the rate: handle it. */
  | 'ok'
  /** Over the rate: drop it, and tell the client (at most once a second per channel). */
  | 'drop-and-warn'
  /** Over the rate: drop it silently (the client was told less than a second ago). */
  | 'drop'
  /** Over the rate for too long: close the session. */
  | 'close';

/** How long a burst may be, in seconds of the rate: a bucket holds this many seconds' worth. */
const BURST_SECONDS = 2;
/** The window in which dropped messages are counted toward closing. */
const ABUSE_WINDOW_MS = 10_000;

interface Bucket {
  tokens: number;
  last: number;
  warnedAt: number;
}

interface DropCount {
  since: number;
  count: number;
}

/**
 * Token buckets per session and channel: each refills at the channel kind's rate and holds up to two
 * seconds' worth, so short bursts pass and a sustained flood is cut to the rate. A session that has more than
 * `maxDropped` messages dropped within 10 seconds is flooding on purpose and is closed.
 *
 * @example
 *   const limiter = new RateLimiter({ json: 200, binary: 2000, media: 1000 }, 1000);
 *   if (limiter.take(session, 'chat', 'json') !== 'ok') return; // dropped
 */
export class RateLimiter {
  readonly #rates: MessageRates;
  readonly #maxDropped: number;
  #buckets = new WeakMap<Session, Map<string, Bucket>>();
  #drops = new WeakMap<Session, DropCount>();

  constructor(rates: MessageRates, maxDropped: number) {
    this.#rates = rates;
    this.#maxDropped = maxDropped;
  }

  /** Takes one message of `key` (a channel name) at the rate of `kind`, and says what to do with it. */
  take(session: Session, key: string, kind: ChannelKind, now = Date.now()): RateVerdict {
    const rate = this.#rates[kind];
    let buckets = this.#buckets.get(session);
    if (!buckets) {
      buckets = new Map();
      this.#buckets.set(session, buckets);
    }
    let bucket = buckets.get(key);
    if (!bucket) {
      bucket = { tokens: rate * BURST_SECONDS, last: now, warnedAt: 0 };
      buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(rate * BURST_SECONDS, bucket.tokens + ((now - bucket.last) / 1000) * rate);
    bucket.last = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 'ok';
    }
    let drops = this.#drops.get(session);
    if (!drops || now - drops.since > ABUSE_WINDOW_MS) {
      drops = { since: now, count: 0 };
      this.#drops.set(session, drops);
    }
    if (++drops.count > this.#maxDropped) return 'close';
    if (now - bucket.warnedAt < 1000) return 'drop';
    bucket.warnedAt = now;
    return 'drop-and-warn';
  }
}

/**
 * A token bucket of one kind of request for one session: `perSecond` tokens a second, up to
 * BURST_SECONDS' worth; `take()` spends one. For requests a plugin limits below the channel's rate (keyframe
 * requests, say).
 *
 * @example
 *   const requests = new TokenBucket(10);
 *   if (!requests.take()) throw new ConfabError('VIDEO_KEYFRAME_RATE', '…');
 */
export class TokenBucket {
  readonly #perSecond: number;
  #tokens: number;
  #at = performance.now();

  constructor(perSecond: number) {
    this.#perSecond = perSecond;
    this.#tokens = perSecond * BURST_SECONDS;
  }

  /** Spends a token; false when none is left. */
  take(): boolean {
    const now = performance.now();
    this.#tokens = Math.min(this.#perSecond * BURST_SECONDS, this.#tokens + ((now - this.#at) / 1000) * this.#perSecond);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
