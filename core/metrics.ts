/**
 * Counters for `/metrics` (Prometheus text format): frames and bytes per channel and direction, drops,
 * errors by code. Gauges (sessions, rooms, queued bytes) are read from the server when scraped.
 */

/** Counters the server increments on its hot paths. */
export class Metrics {
  /** Frames received, by channel name (core frames by their type name). */
  readonly framesIn = new Map<string, number>();
  /** Bytes of payload received, by channel name. */
  readonly bytesIn = new Map<string, number>();
  /** Frames written, by channel name (a broadcast counts once per recipient). */
  readonly framesOut = new Map<string, number>();
  /** Media frames dropped for slow receivers. */
  mediaDropped = 0;
  /** Malformed or refused media frames dropped on arrival, by reason (`short-header`, `not-owner`…). */
  readonly mediaRefused = new Map<string, number>();
  /** Errors sent to clients, by code. */
  readonly errors = new Map<string, number>();
  /** Connections accepted, by transport. */
  readonly connections = new Map<string, number>();
  /**
   * Gauges that plugins set, by full metric name (`confab_audio_tick_lateness_p99_ms`), rendered after the
   * server's own gauges. A plugin sets the current value; it is read when `/metrics` is scraped.
   */
  readonly gauges = new Map<string, number>();
  /** Labelled counters that plugins declare with `counter()`, by full metric name. */
  readonly #pluginCounters = new Map<string, PluginCounter>();

  /**
   * Declares a labelled counter of a plugin (once per name; a second call returns the same counter) and
   * returns the function that counts. Rendered with the server's counters.
   *
   * @example
   *   const switches = ctx.metrics.counter('confab_video_layer_switches_total', 'Temporal layer changes of receivers.', 'direction');
   *   switches('down');
   */
  counter(name: string, help: string, label: string): (value: string, n?: number) => void {
    let counter = this.#pluginCounters.get(name);
    if (!counter) this.#pluginCounters.set(name, (counter = { help, label, values: new Map() }));
    const values = counter.values;
    return (value, n = 1) => values.set(value, (values.get(value) ?? 0) + n);
  }

  /** Adds `n` to a labelled counter. */
  add(counter: Map<string, number>, label: string, n = 1): void {
    counter.set(label, (counter.get(label) ?? 0) + n);
  }

  /** Renders every counter and the given gauges in Prometheus text format. */
  render(gauges: Record<string, number>): string {
    const lines: string[] = [];
    const counter = (name: string, help: string, label: string, values: Map<string, number>) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [key, value] of values) lines.push(`${name}{${label}="${escapeLabel(key)}"} ${value}`);
    };
    counter('confab_frames_in_total', 'Frames received.', 'channel', this.framesIn);
    counter('confab_bytes_in_total', 'Payload bytes received.', 'channel', this.bytesIn);
    counter('confab_frames_out_total', 'Frames sent, per recipient.', 'channel', this.framesOut);
    counter('confab_errors_total', 'ERROR frames sent, by code.', 'code', this.errors);
    counter('confab_connections_total', 'Connections accepted, by transport.', 'transport', this.connections);
    counter('confab_media_refused_total', 'Media frames refused on arrival, by reason.', 'reason', this.mediaRefused);
    lines.push('# HELP confab_media_dropped_total Media frames dropped for slow receivers.', '# TYPE confab_media_dropped_total counter');
    lines.push(`confab_media_dropped_total ${this.mediaDropped}`);
    for (const [name, { help, label, values }] of this.#pluginCounters) counter(name, help, label, values);
    for (const [name, value] of [...Object.entries(gauges), ...this.gauges]) {
      lines.push(`# TYPE ${name} gauge`, `${name} ${value}`);
    }
    return lines.join('\n') + '\n';
  }
}

/** A counter a plugin declared. */
interface PluginCounter {
  help: string;
  label: string;
  values: Map<string, number>;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
