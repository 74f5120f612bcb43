/**
 * A jitter buffer for one speaker: frames go in as they arrive (in any order), and come out one per mixer
 * tick in sequence order, or a gap to conceal.
 *
 * - Ordered by sequence number (uint32, wrapping); reordering within the buffer's depth is absorbed.
 * - A frame older than the one due next (late, or a duplicate of one already played) is dropped: `'late'`;
 *   also while idle, when it is at most 1000 frames before the last one played.
 *   A second copy of a frame still waiting is dropped: `'duplicate'`.
 * - Adaptive depth: the target depth follows the arrival jitter (RFC 3550's estimate: 3 × jitter, in
 *   frames, plus one) and grows by one for each late frame (decaying again after 10 s without one).
 *   When the frame due is missing and fewer than `target` frames wait, the buffer *stretches*: the gap is
 *   concealed without moving on, so the frame can still arrive; when enough frames wait, the missing one is
 *   taken as lost. A buffer that stays deeper than target + 2 for a second drops one frame to cut delay.
 * - Never deeper than `maxDepth` frames (200 ms by default): a frame that far ahead skips the oldest.
 * - After `idleAfter` empty ticks in a row it goes idle and primes again: it starts playing once `target`
 *   frames wait, or once the first frame has waited `target` ticks.
 */

/** What `push` did with a frame. */
export type PushResult = 'ok' | 'late' | 'duplicate';

/** What `pop` gives for one tick: a frame, a gap to conceal, or nothing (idle or priming). */
export type PopResult<T> = { kind: 'frame'; value: T } | { kind: 'missing' } | undefined;

/** Options of a jitter buffer, in frames. */
export interface JitterBufferOptions {
  /** Frame duration in ms. Default 20. */
  frameMs?: number;
  /** Smallest target depth. Default 1. */
  minDepth?: number;
  /** Target depth before any jitter is measured. Default 2. */
  initialDepth?: number;
  /** Hard maximum depth. Default 10 (200 ms of 20 ms frames). */
  maxDepth?: number;
  /** Empty ticks in a row before the buffer goes idle. Default 5. */
  idleAfter?: number;
}

/** Ticks a buffer may stay too deep before one frame is dropped. */
const SHRINK_AFTER_TICKS = 50;
/** A frame this far behind the last one played starts a new stream (a sender that restarted its count). */
const RESTART_DISTANCE = 1000;
/** Milliseconds without a late frame before the late boost decays by one frame. */
const LATE_BOOST_DECAY_MS = 10_000;

/** One speaker's jitter buffer. */
export class JitterBuffer<T> {
  readonly #frameMs: number;
  readonly #minDepth: number;
  readonly #maxDepth: number;
  readonly #idleAfter: number;
  /** Slots indexed by seq modulo their count (a power of two larger than maxDepth). */
  readonly #slots: Array<{ seq: number; value: T } | undefined>;
  readonly #mask: number;
  /** The last sequence number played (kept while idle). */
  #lastPlayed: number | undefined;
  /** The sequence number due next; undefined while idle. */
  #next: number | undefined;
  #playing = false;
  #stored = 0;
  #emptyTicks = 0;
  #primingTicks = 0;
  #deepTicks = 0;
  /** RFC 3550 interarrival jitter, ms. */
  #jitterMs = 0;
  #lastArrival: { seq: number; ms: number } | undefined;
  #lateBoost = 0;
  #lastLateMs = 0;
  #jitterDepth: number;

  constructor(options: JitterBufferOptions = {}) {
    this.#frameMs = options.frameMs ?? 20;
    this.#minDepth = options.minDepth ?? 1;
    this.#maxDepth = options.maxDepth ?? 10;
    this.#idleAfter = options.idleAfter ?? 5;
    this.#jitterDepth = options.initialDepth ?? 2;
    let size = 1;
    while (size <= this.#maxDepth) size *= 2;
    this.#slots = new Array(size).fill(undefined);
    this.#mask = size - 1;
  }

  /** The depth the buffer aims for, in frames. */
  get target(): number {
    return Math.min(this.#maxDepth, Math.max(this.#minDepth, this.#jitterDepth + this.#lateBoost));
  }

  /** Frames waiting. */
  get depth(): number {
    return this.#stored;
  }

  /** The arrival jitter estimate, ms. */
  get jitterMs(): number {
    return this.#jitterMs;
  }

  /** True when nothing waits and nothing is playing. */
  get idle(): boolean {
    return this.#next === undefined;
  }

  /** Takes a frame that arrived at `arrivalMs` (a monotonic clock). */
  push(seq: number, value: T, arrivalMs: number): PushResult {
    seq >>>= 0;
    this.#measureJitter(seq, arrivalMs);
    if (this.#next === undefined) {
      // Idle: a frame at or shortly before the last one played is late, not the start of a new stream.
      const sinceLast = this.#lastPlayed === undefined ? 1 : distance(this.#lastPlayed, seq);
      if (sinceLast <= 0 && sinceLast > -RESTART_DISTANCE) return this.#late(arrivalMs);
      this.#next = seq;
    }
    let ahead = distance(this.#next, seq);
    if (ahead < 0) {
      if (this.#playing || this.#stored - ahead > this.#maxDepth) return this.#late(arrivalMs);
      this.#next = seq; // still priming: an earlier frame that came second starts the stream
      ahead = 0;
    }
    if (ahead >= this.#maxDepth) this.#skipTo((seq - this.#maxDepth + 1) >>> 0);
    const slot = this.#slots[seq & this.#mask];
    if (slot && slot.seq === seq) return 'duplicate';
    this.#slots[seq & this.#mask] = { seq, value };
    this.#stored++;
    return 'ok';
  }

  /** The frame for this tick, a gap to conceal, or undefined when there is nothing to play. */
  pop(): PopResult<T> {
    if (this.#next === undefined) return undefined;
    if (!this.#playing) {
      // Start once `target` frames wait, or once the first has waited `target` ticks (a short burst).
      if (this.#stored < this.target && ++this.#primingTicks < this.target) return undefined;
      this.#playing = true;
      this.#primingTicks = 0;
    }
    this.#shrinkIfTooDeep();
    const index = this.#next & this.#mask;
    const slot = this.#slots[index];
    if (slot && slot.seq === this.#next) {
      this.#slots[index] = undefined;
      this.#stored--;
      this.#lastPlayed = this.#next;
      this.#next = (this.#next + 1) >>> 0;
      this.#emptyTicks = 0;
      return { kind: 'frame', value: slot.value };
    }
    // Missing: take it as lost only when enough later frames wait; else stretch and give it time to come.
    if (this.#stored >= this.target) this.#next = (this.#next + 1) >>> 0;
    return this.#emptyTick({ kind: 'missing' });
  }

  /** Forgets every frame and goes idle (the speaker muted or left). */
  reset(): void {
    this.#slots.fill(undefined);
    this.#stored = 0;
    this.#next = undefined;
    this.#playing = false;
    this.#emptyTicks = 0;
    this.#primingTicks = 0;
    this.#deepTicks = 0;
  }

  #emptyTick<R>(result: R): R {
    if (this.#stored === 0 && ++this.#emptyTicks >= this.#idleAfter) this.reset();
    return result;
  }

  #late(arrivalMs: number): PushResult {
    this.#lateBoost = Math.min(this.#maxDepth, this.#lateBoost + 1);
    this.#lastLateMs = arrivalMs;
    return 'late';
  }

  #shrinkIfTooDeep(): void {
    if (this.#stored <= this.target + 2) {
      this.#deepTicks = 0;
      return;
    }
    if (++this.#deepTicks < SHRINK_AFTER_TICKS) return;
    this.#deepTicks = 0;
    this.#skipTo((this.#next! + 1) >>> 0);
  }

  /** Drops every frame before `seq` and makes `seq` the next one due. */
  #skipTo(seq: number): void {
    if (distance(this.#next!, seq) >= this.#slots.length) {
      this.#slots.fill(undefined);
      this.#stored = 0;
      this.#next = seq;
      return;
    }
    while (this.#next !== seq) {
      const index = this.#next! & this.#mask;
      if (this.#slots[index]?.seq === this.#next) {
        this.#slots[index] = undefined;
        this.#stored--;
      }
      this.#next = (this.#next! + 1) >>> 0;
    }
  }

  #measureJitter(seq: number, arrivalMs: number): void {
    const last = this.#lastArrival;
    if (last && distance(last.seq, seq) > 0) {
      const transitChange = arrivalMs - last.ms - distance(last.seq, seq) * this.#frameMs;
      this.#jitterMs += (Math.abs(transitChange) - this.#jitterMs) / 16;
      this.#jitterDepth = Math.ceil((3 * this.#jitterMs) / this.#frameMs) + 1;
    }
    if (!last || distance(last.seq, seq) > 0) this.#lastArrival = { seq, ms: arrivalMs };
    if (this.#lateBoost > 0 && arrivalMs - this.#lastLateMs > LATE_BOOST_DECAY_MS) {
      this.#lateBoost--;
      this.#lastLateMs = arrivalMs;
    }
  }
}

/** How far `to` is after `from`, for wrapping uint32 sequence numbers (negative when before). */
function distance(from: number, to: number): number {
  return (to - from) | 0;
}
