/**
 * The inspector's trace format: one JSON object per line (JSON Lines), one line per frame. Shared by the
 * plugin that writes it and `confab trace`, which reads it.
 *
 *   {"t":1732000000123.4,"dir":"in","session":"Xk3…","name":"alice","room":"lab","type":16,"channel":"chat","op":"send","size":27}
 *
 * `t` is ms since the epoch; `dir` is `in` (client → server) or `out`; `channel` is the channel name, or the
 * core frame's name (`PING`, `WELCOME`…); `op` is there for json channels whose payload has a string `op`;
 * `size` is the payload size in bytes (the 5-byte frame header excluded).
 */

/** One frame as the trace records it. */
export interface TraceRecord {
  /** When, in ms since the epoch (fractions for sub-millisecond order). */
  t: number;
  dir: 'in' | 'out';
  /** Session id. */
  session: string;
  /** The session's display name. */
  name: string;
  room: string;
  /** Frame type id. */
  type: number;
  /** Channel name, or the core frame name. */
  channel: string;
  /** The `op` of a json channel message, when it has one. */
  op?: string;
  /** Payload bytes. */
  size: number;
}

/** Parses one trace line; undefined for a line that is not a trace record. */
export function parseTraceLine(line: string): TraceRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const ok = typeof r.t === 'number' && (r.dir === 'in' || r.dir === 'out') && typeof r.session === 'string'
    && typeof r.name === 'string' && typeof r.room === 'string' && typeof r.type === 'number'
    && typeof r.channel === 'string' && typeof r.size === 'number' && (r.op === undefined || typeof r.op === 'string');
  return ok ? (r as unknown as TraceRecord) : undefined;
}

/** Column widths of the terminal table. */
const COLUMNS = { time: 12, dir: 3, who: 22, room: 12, channel: 14, op: 14 };

/** The header line of `formatTraceRow` rows. */
export function traceHeader(): string {
  return [
    'time'.padEnd(COLUMNS.time), 'dir'.padEnd(COLUMNS.dir), 'session'.padEnd(COLUMNS.who), 'room'.padEnd(COLUMNS.room),
    'channel'.padEnd(COLUMNS.channel), 'op'.padEnd(COLUMNS.op), 'bytes',
  ].join(' ');
}

/** One record as a table row: `12:00:01.123 →  alice (Xk3…) lab chat send 27`. `→` is client to server. */
export function formatTraceRow(record: TraceRecord): string {
  const time = new Date(record.t).toISOString().slice(11, 23);
  const who = `${record.name} (${record.session.slice(0, 6)})`;
  return [
    time.padEnd(COLUMNS.time),
    (record.dir === 'in' ? '→' : '←').padEnd(COLUMNS.dir),
    fit(who, COLUMNS.who),
    fit(record.room, COLUMNS.room),
    fit(record.channel, COLUMNS.channel),
    fit(record.op ?? '', COLUMNS.op),
    String(record.size),
  ].join(' ');
}

function fit(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}
