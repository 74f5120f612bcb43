/**
 * The server's metrics for `/metrics`, on prom-client with one Registry per server (never the global one);
 * the process's own metrics (CPU, memory, GC, event-loop lag, build info) follow them (core/process-metrics.ts).
 *
 * Hot paths stay as cheap as a Map update: frames, bytes, errors and drops are counted in plain Maps that
 * the registry reads when it is scraped (a `collect` per counter). Histograms are prom-client's own; the
 * relay delay is measured on one media frame in RELAY_SAMPLE_EVERY, for every receiver it is written to.
 * Labels are bounded: channel names, codes, reasons and transports, never a session; a room only with
 * `perRoom`.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { processMetrics } from './process-metrics.js';

/** Why a media frame was not written to a receiver (`confab_media_dropped_total{reason}`). */
export type MediaDropReason =
  /** A frame held for a slow receiver was replaced by a newer one of its stream. */
  | 'replaced'
  /** A delta frame was dropped because a keyframe is held for the same stream. */
  | 'behind-keyframe'
  /** The receiver's connection is gone; it waits for a resume. */
  | 'detached';

const DROP_REASONS: readonly MediaDropReason[] = ['replaced', 'behind-keyframe', 'detached'];

/** One media frame in this many has its relay delay measured (to every receiver it is written to). */
const RELAY_SAMPLE_EVERY = 8;

/** Seconds: from 0.1 ms to 1 s, for delays inside the server. */
const SERVER_DELAY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** Seconds: HELLO to WELCOME, including the auth plugin's work. */
const JOIN_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** What the server's gauges read when `/metrics` is scraped. */
export interface MetricsSource {
  /** Every session (active or waiting for a resume): its room and the bytes waiting on its connection. */
  sessions(): Iterable<{ readonly room: { readonly name: string }; readonly queuedBytes: number }>;
  /** How many rooms exist. */
  roomCount(): number;
}

/** Options of a server's metrics. */
export interface MetricsOptions {
  /** Where the sessions, rooms and send-queue gauges come from. */
  source?: MetricsSource;
  /** Also export the sessions and send-queue bytes of every room (`confab_room_*{room}`). Default false. */
  perRoom?: boolean;
  /** Error codes the server may send: each is exported at 0 until sent, so rates and alerts work at once. */
  errorCodes?: Iterable<string>;
}

/** Records one value of a histogram (with its label's value, when it has a label). */
export type Observe = (value: number, labelValue?: string) => void;

/** A server's counters, gauges and histograms. */
export class Metrics {
  /** The server's registry. */
  readonly registry = new Registry();
  /** Frames received, by channel name (core frames by their type name). */
  readonly framesIn = new Map<string, number>();
  /** Bytes of payload received, by channel name. */
  readonly bytesIn = new Map<string, number>();
  /** Frames written, by channel name (a broadcast counts once per recipient). */
  readonly framesOut = new Map<string, number>();
  /** Media frames not written to a receiver, by reason. */
  readonly mediaDrops = new Map<string, number>(DROP_REASONS.map((reason) => [reason, 0]));
  /** Malformed or refused media frames dropped on arrival, by reason (`short-header`, `not-owner`…). */
  readonly mediaRefused = new Map<string, number>();
  /** Errors sent to clients, by code. */
  readonly errors = new Map<string, number>();
  /** Connections accepted, by transport. */
  readonly connections = new Map<string, number>();
  /**
   * Gauges that plugins set, by full metric name (`confab_audio_tick_lateness_p99_ms`). A plugin sets the
   * current value; it is read when `/metrics` is scraped.
   */
  readonly gauges: Map<string, number>;
  /**
   * When the media frame being relayed now arrived (`performance.now()`), while the dispatcher runs the
   * handlers of a sampled frame; undefined otherwise. Sessions read it when they write media.
   */
  relayArrival: number | undefined;
  readonly #counters = new Map<string, Map<string, number>>();
  readonly #histograms = new Map<string, Histogram>();
  readonly #joined: Histogram.Internal<string>;
  readonly #resumed: Histogram.Internal<string>;
  readonly #relayDelay: Histogram;
  #mediaFrames = 0;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    for (const code of options.errorCodes ?? []) this.errors.set(code, 0);
    this.gauges = new PluginGauges(this.registry);
    this.#mapCounter('confab_frames_in_total', 'Frames received, by channel (core frames by type name).', 'channel', this.framesIn);
    this.#mapCounter('confab_bytes_in_total', 'Payload bytes received, by channel.', 'channel', this.bytesIn);
    this.#mapCounter('confab_frames_out_total', 'Frames sent, per recipient, by channel.', 'channel', this.framesOut);
    this.#mapCounter('confab_errors_total', 'ERROR frames sent, by code (every code the server knows, from 0).', 'code', this.errors);
    this.#mapCounter('confab_connections_total', 'Connections accepted, by transport.', 'transport', this.connections);
    this.#mapCounter('confab_media_refused_total', 'Media frames refused on arrival, by reason.', 'reason', this.mediaRefused);
    this.#mapCounter('confab_media_dropped_total', 'Media frames not written to a receiver, by reason (slow receiver: replaced, behind-keyframe; detached).', 'reason', this.mediaDrops);
    const join = new Histogram({
      name: 'confab_join_seconds',
      help: 'HELLO to WELCOME, seconds, by kind (join, resume).',
      labelNames: ['kind'],
      buckets: JOIN_BUCKETS,
      registers,
    });
    this.#joined = join.labels('join');
    this.#resumed = join.labels('resume');
    join.zero({ kind: 'join' });
    join.zero({ kind: 'resume' });
    this.#relayDelay = new Histogram({
      name: 'confab_media_relay_delay_seconds',
      help: `Server-added delay of relayed media frames: arrival to the write to each receiver, seconds (1 frame in ${RELAY_SAMPLE_EVERY}).`,
      buckets: SERVER_DELAY_BUCKETS,
      registers,
    });
    if (options.source) this.#serverGauges(options.source, options.perRoom ?? false);
  }

  /** Media frames dropped for slow or detached receivers, all reasons. */
  get mediaDropped(): number {
    let total = 0;
    for (const value of this.mediaDrops.values()) total += value;
    return total;
  }

  /** Adds `n` to a labelled counter. */
  add(counter: Map<string, number>, label: string, n = 1): void {
    counter.set(label, (counter.get(label) ?? 0) + n);
  }

  /**
   * Declares a labelled counter of a plugin (once per name; a second call returns the same counter) and
   * returns the function that counts. Counting is a Map update; the registry reads it when scraped.
   *
   * @example
   *   const switches = ctx.metrics.counter('confab_video_layer_switches_total', 'Temporal layer changes of receivers.', 'direction');
   *   switches('down');
   */
  counter(name: string, help: string, label: string): (value: string, n?: number) => void {
    let values = this.#counters.get(name);
    if (!values) {
      values = new Map();
      this.#counters.set(name, values);
      this.#mapCounter(name, help, label, values);
    }
    const counted = values;
    return (value, n = 1) => counted.set(value, (counted.get(value) ?? 0) + n);
  }

  /** The counts of a counter declared with `counter()`, by label value; undefined for an unknown name. */
  counterValues(name: string): ReadonlyMap<string, number> | undefined {
    return this.#counters.get(name);
  }

  /**
   * Declares a histogram of a plugin (once per name) and returns the function that records a value. Name it
   * in base units (`_seconds`, `_bytes`) and give buckets in them. With `label`, each value names its label's
   * value (keep the set of values small).
   *
   * @example
   *   const fanout = ctx.metrics.histogram('confab_chat_fanout_seconds', 'Send to fan-out, seconds.', [0.001, 0.01, 0.1]);
   *   fanout((performance.now() - started) / 1000);
   */
  histogram(name: string, help: string, buckets: readonly number[], label?: string): Observe {
    let histogram = this.#histograms.get(name);
    if (!histogram) {
      histogram = new Histogram({ name, help, buckets: [...buckets], labelNames: label ? [label] : [], registers: [this.registry] });
      this.#histograms.set(name, histogram);
    }
    const recorded = histogram;
    if (!label) return (value) => recorded.observe(value);
    return (value, labelValue = '') => recorded.observe({ [label]: labelValue }, value);
  }

  /** Records a handshake's time from the HELLO's arrival (`performance.now()`) to its WELCOME. */
  observeJoin(kind: 'join' | 'resume', helloAt: number): void {
    (kind === 'join' ? this.#joined : this.#resumed).observe((performance.now() - helloAt) / 1000);
  }

  /**
   * Called for every media frame as it arrives: true for the one in RELAY_SAMPLE_EVERY whose relay delay is
   * measured (the dispatcher then sets `relayArrival` while its handlers run).
   */
  sampleRelay(): boolean {
    return ++this.#mediaFrames % RELAY_SAMPLE_EVERY === 0;
  }

  /** Records the delay of a relayed media frame that arrived at `arrival` (`performance.now()`) and was just written. */
  observeRelayDelay(arrival: number): void {
    this.#relayDelay.observe((performance.now() - arrival) / 1000);
  }

  /** The content type of `render()`'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric of the server, then the process's, in Prometheus text format. */
  async render(): Promise<string> {
    return (await this.registry.metrics()) + (await processMetrics().metrics());
  }

  /** Exports a Map of counts as a labelled counter, read when scraped. */
  #mapCounter(name: string, help: string, label: string, values: Map<string, number>): void {
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [key, value] of values) this.inc({ [label]: key }, value);
      },
    });
  }

  /** The gauges read from the server when scraped: sessions, rooms, send-queue bytes (and per room). */
  #serverGauges(source: MetricsSource, perRoom: boolean): void {
    const registers = [this.registry];
    new Gauge({ name: 'confab_sessions', help: 'Sessions, active or waiting for a resume.', registers, collect() { this.set(count(source.sessions())); } });
    new Gauge({ name: 'confab_rooms', help: 'Rooms.', registers, collect() { this.set(source.roomCount()); } });
    new Gauge({
      name: 'confab_send_queue_bytes',
      help: 'Bytes waiting to be written to clients, all sessions.',
      registers,
      collect() {
        let bytes = 0;
        for (const session of source.sessions()) bytes += session.queuedBytes;
        this.set(bytes);
      },
    });
    if (!perRoom) return;
    const byRoom = (name: string, help: string, value: (session: { queuedBytes: number }) => number) => new Gauge({
      name,
      help,
      labelNames: ['room'],
      registers,
      collect() {
        this.reset();
        const rooms = new Map<string, number>();
        for (const session of source.sessions()) rooms.set(session.room.name, (rooms.get(session.room.name) ?? 0) + value(session));
        for (const [room, total] of rooms) this.set({ room }, total);
      },
    });
    byRoom('confab_room_sessions', 'Sessions, by room (server option metricsPerRoom).', () => 1);
    byRoom('confab_room_send_queue_bytes', 'Bytes waiting to be written to clients, by room (server option metricsPerRoom).', (session) => session.queuedBytes);
  }
}

/** How many items an iterable yields. */
function count(items: Iterable<unknown>): number {
  let n = 0;
  for (const _item of items) n++;
  return n;
}

/** The plugins' gauges: a name is registered as a gauge the first time a plugin sets it. */
class PluginGauges extends Map<string, number> {
  readonly #registry: Registry;

  constructor(registry: Registry) {
    super();
    this.#registry = registry;
  }

  override set(name: string, value: number): this {
    if (!this.has(name)) {
      const gauges = this;
      new Gauge({ name, help: 'Set by a plugin.', registers: [this.#registry], collect() { this.set(gauges.get(name) ?? 0); } });
    }
    return super.set(name, value);
  }
}
