/**
 * What the server knows of the link to one session, measured through the session's own connection: the
 * server writes a PING with a probe number after the bytes it has sent, and the client's PONG comes back
 * only once it has read everything before it. So:
 *
 * - the round trip minus the smallest one seen lately is the time data now waits on its way to the
 *   client: in the server's send queue, in both kernels' socket buffers, in a slow network. That is the
 *   congestion signal for media, where the server's own queue alone says nothing until megabytes of
 *   kernel buffers have filled (bufferbloat);
 * - a probe still unanswered counts as at least as old as it is, so a stalled link shows at once;
 * - the bytes written between two probes, over the time between their PONGs, is what the link delivered
 *   (as TCP's delivery-rate estimate does): the link's capacity while it is congested.
 *
 * Every client answers PING with PONG (docs/protocol.md); one that does not simply looks uncongested.
 */

/** Probes sent at most this often to a session that is being sent data. */
export const PROBE_INTERVAL_MS = 250;
/** The smallest round trip is taken over this long, so a route change is forgotten. */
const MIN_RTT_WINDOW_MS = 10_000;
/** Unanswered probes kept; older ones are forgotten (a client that never answers). */
const MAX_OUTSTANDING = 16;
/** Bytes of a probe's PING payload: a marker and the probe number. */
const PAYLOAD_BYTES = 5;
/** The first byte of a probe's payload, so PONGs to anything else are not taken for one. */
const PROBE_MARKER = 0xc7;

interface Probe {
  id: number;
  sentAt: number;
  /** Bytes written to the session before this probe. */
  bytes: number;
}

/** One session's link measurements. */
export class LinkProbe {
  readonly #outstanding: Probe[] = [];
  readonly #rtts: { at: number; rtt: number }[] = [];
  #nextId = 1;
  #lastProbeAt = -Infinity;
  #lastProbeBytes = 0;
  #lastAnswered: { at: number; bytes: number } | undefined;
  #lastDelayMs = 0;
  /** The smallest round trip of the window, kept up to date on each answer (read per media frame). */
  #minRttMs = 0;
  #deliveryBps: number | undefined;

  /**
   * The PING payload to send now, or undefined: at most every PROBE_INTERVAL_MS, and only when bytes were
   * written since the last probe (an idle link needs no measuring).
   */
  probe(now: number, bytesWritten: number): Uint8Array | undefined {
    if (now - this.#lastProbeAt < PROBE_INTERVAL_MS || bytesWritten === this.#lastProbeBytes) return undefined;
    this.#lastProbeAt = now;
    this.#lastProbeBytes = bytesWritten;
    const id = this.#nextId++ >>> 0;
    this.#outstanding.push({ id, sentAt: now, bytes: bytesWritten });
    if (this.#outstanding.length > MAX_OUTSTANDING) this.#outstanding.shift();
    const payload = new Uint8Array(PAYLOAD_BYTES);
    payload[0] = PROBE_MARKER;
    new DataView(payload.buffer).setUint32(1, id);
    return payload;
  }

  /** Takes a PONG's payload; false when it answers no outstanding probe (the client's own, or junk). */
  pong(payload: Uint8Array, now: number): boolean {
    if (payload.length !== PAYLOAD_BYTES || payload[0] !== PROBE_MARKER) return false;
    const id = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(1);
    const index = this.#outstanding.findIndex((probe) => probe.id === id);
    if (index < 0) return false;
    const probe = this.#outstanding[index]!;
    // PONGs come in order on one connection: the probes before this one will not be answered.
    this.#outstanding.splice(0, index + 1);
    const rtt = now - probe.sentAt;
    this.#rtts.push({ at: now, rtt });
    while (this.#rtts.length > 0 && now - this.#rtts[0]!.at > MIN_RTT_WINDOW_MS) this.#rtts.shift();
    this.#minRttMs = Math.min(...this.#rtts.map((sample) => sample.rtt));
    this.#lastDelayMs = rtt - this.#minRttMs;
    const last = this.#lastAnswered;
    if (last && now > last.at && probe.bytes > last.bytes) this.#deliveryBps = ((probe.bytes - last.bytes) * 8 * 1000) / (now - last.at);
    this.#lastAnswered = { at: now, bytes: probe.bytes };
    return true;
  }

  /**
   * How long data now waits on its way to the client, in ms: the last round trip over the smallest, or
   * the age of the oldest unanswered probe over it when that is more.
   */
  queueDelayMs(now: number): number {
    // A client that never answered a probe may not answer PINGs at all: only an answering one can stall.
    const oldest = this.#lastAnswered ? this.#outstanding[0] : undefined;
    const waiting = oldest ? now - oldest.sentAt - this.#minRttMs : 0;
    return Math.max(0, this.#lastDelayMs, waiting);
  }

  /** What the link delivered between the last two answered probes, bits/s; undefined before two answers. */
  get deliveryBps(): number | undefined {
    return this.#deliveryBps;
  }
}
