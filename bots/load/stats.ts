/**
 * What the load tester measures per media kind: delivery latency (receive time minus the capture time in the
 * media header, on the same host clock), loss from sequence gaps, and counts.
 */

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  samples: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Collects latency samples and summarises them. */
export class LatencyRecorder {
  #samples: number[] = [];

  /** Adds one sample (ms). */
  add(ms: number): void {
    this.#samples.push(ms);
  }

  /** Percentiles by nearest rank; zeros when there is no sample. */
  summary(): LatencySummary {
    const sorted = Float64Array.from(this.#samples).sort();
    const at = (p: number) => (sorted.length === 0 ? 0 : round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!));
    return { samples: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: sorted.length === 0 ? 0 : round(sorted[sorted.length - 1]!) };
  }
}

/**
 * Tracks the sequence numbers one receiver saw from one sender's stream: how many arrived, how many are
 * missing between the first and the highest seen (lost), and how many came twice or late.
 */
export class SequenceTracker {
  #first: number | undefined;
  #highest = -1;
  #seen = new Set<number>();
  /** Frames that arrived with a sequence number already seen. */
  duplicates = 0;
  /** Frames that arrived after a higher sequence number. */
  reordered = 0;

  /** Records one arrival. */
  add(seq: number): void {
    if (this.#seen.has(seq)) {
      this.duplicates++;
      return;
    }
    this.#seen.add(seq);
    this.#first = this.#first === undefined ? seq : Math.min(this.#first, seq);
    if (seq < this.#highest) this.reordered++;
    this.#highest = Math.max(this.#highest, seq);
  }

  /** Distinct frames received. */
  get received(): number {
    return this.#seen.size;
  }

  /** Frames missing between the first and the highest sequence number seen. */
  get lost(): number {
    return this.#first === undefined ? 0 : this.#highest - this.#first + 1 - this.#seen.size;
  }
}

/** Everything measured about one kind of traffic (video, audio, chat). */
export interface KindReport {
  /** Frames (messages) the bots sent. */
  sent: number;
  /** Frames the bots did not send because their connection was backed up. */
  notSent: number;
  /** Deliveries to expect: each frame sent times the receivers it was for. */
  expected: number;
  /** Distinct frames received, over all receivers. */
  received: number;
  /** Frames missing from sequence gaps, over all receivers and senders. */
  lost: number;
  duplicates: number;
  latencyMs: LatencySummary;
  /** Frames and bytes received per second over the measuring window. */
  framesPerSecond: number;
  bytesPerSecond: number;
}

/** Collects one kind's numbers over every bot. */
export class KindStats {
  sent = 0;
  notSent = 0;
  expected = 0;
  bytes = 0;
  readonly latency = new LatencyRecorder();
  /** Per receiver and sender stream: `${receiver}>${sender}`. */
  readonly streams = new Map<string, SequenceTracker>();

  /** Records one arrival at `receiver` of frame `seq` from `sender`, captured at `captureMs`. */
  arrival(receiver: string, sender: string, seq: number, captureMs: number, bytes: number, now = Date.now()): void {
    const key = `${receiver}>${sender}`;
    let tracker = this.streams.get(key);
    if (!tracker) this.streams.set(key, (tracker = new SequenceTracker()));
    tracker.add(seq);
    this.latency.add(now - captureMs);
    this.bytes += bytes;
  }

  /** The report, with rates over `windowS` seconds. */
  report(windowS: number): KindReport {
    let received = 0;
    let lost = 0;
    let duplicates = 0;
    for (const tracker of this.streams.values()) {
      received += tracker.received;
      lost += tracker.lost;
      duplicates += tracker.duplicates;
    }
    return {
      sent: this.sent,
      notSent: this.notSent,
      expected: this.expected,
      received,
      lost,
      duplicates,
      latencyMs: this.latency.summary(),
      framesPerSecond: windowS > 0 ? round(received / windowS) : 0,
      bytesPerSecond: windowS > 0 ? Math.round(this.bytes / windowS) : 0,
    };
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
