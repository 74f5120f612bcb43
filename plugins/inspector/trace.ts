/**
 * The inspector's trace format: one JSON object per line (JSON Lines), one line per frame. Shared by the
 * plugin that writes it and `confab trace`, which reads it.
 *
 *   {"t":1732000000123.4,"dir":"in","session":"Xk3…","name":"alice","room":"lab","type":16,"channel":"chat","op":"send","size":27,"excerpt":"{\"op\":\"send\",\"text\":\"hi\"}"}
 *   {"t":1732000000125.1,"dir":"out",…,"type":3,"channel":"ERROR","size":88,"excerpt":"{\"code\":…","code":"CHAT_TEXT_TOO_LONG","errorChannel":"chat"}
 *
 * `t` is ms since the epoch; `dir` is `in` (client → server) or `out`; `channel` is the channel name, or the
 * core frame's name (`PING`, `WELCOME`…); `op` is there for json channels whose payload has a string `op`;
 * `size` is the payload size in bytes (the 5-byte frame header excluded); `excerpt` is the start of a JSON
 * payload's text; an ERROR frame has its `code` and, when it names one, `errorChannel`: the channel the
 * error concerns, which `--channel` filters count it under.
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
  /** The first characters of a JSON payload (json channels and the core's JSON frames). */
  excerpt?: string;
  /** An ERROR frame's code. */
  code?: string;
  /** The channel an ERROR frame names: the error concerns it. */
  errorChannel?: string;
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
  const { t, dir, session, name, room, type, channel, size, op, excerpt, code, errorChannel } = value as Record<string, unknown>;
  const ok = typeof t === 'number' && (dir === 'in' || dir === 'out') && typeof session === 'string' && typeof name === 'string'
    && typeof room === 'string' && typeof type === 'number' && typeof channel === 'string' && typeof size === 'number';
  if (!ok) return undefined;
  const record: TraceRecord = { t, dir, session, name, room, type, channel, size };
  for (const [key, field] of [['op', op], ['excerpt', excerpt], ['code', code], ['errorChannel', errorChannel]] as const) {
    if (field === undefined) continue;
    if (typeof field !== 'string') return undefined;
    record[key] = field;
  }
  return record;
}

/** True when the record is on `channel`, or is an ERROR that concerns it. */
export function isOnChannel(record: TraceRecord, channel: string): boolean {
  return record.channel === channel || record.errorChannel === channel;
}

/** Column widths of the terminal table; the excerpt, last, takes what is left of EXCERPT_COLUMN. */
const COLUMNS = { time: 12, dir: 3, who: 20, room: 10, channel: 14, op: 24, bytes: 6 };
/** Characters of the excerpt a table row shows (`--json` gives the whole one). */
const EXCERPT_COLUMN = 60;

/** The header line of `formatTraceRow` rows. */
export function traceHeader(): string {
  return [
    'time'.padEnd(COLUMNS.time), 'dir'.padEnd(COLUMNS.dir), 'session'.padEnd(COLUMNS.who), 'room'.padEnd(COLUMNS.room),
    'channel'.padEnd(COLUMNS.channel), 'op'.padEnd(COLUMNS.op), 'bytes'.padStart(COLUMNS.bytes), 'excerpt',
  ].join(' ');
}

/**
 * One record as a table row: `12:00:01.123 →   alice (Xk3v9a) lab  chat  send  27 {"op":"send",…}`. `→` is
 * client to server. An ERROR row shows the channel it concerns beside ERROR, and its code in the op column.
 */
export function formatTraceRow(record: TraceRecord): string {
  const time = new Date(record.t).toISOString().slice(11, 23);
  const who = `${record.name} (${record.session.slice(0, 6)})`;
  const channel = record.errorChannel === undefined ? record.channel : `${record.channel} ${record.errorChannel}`;
  return [
    time.padEnd(COLUMNS.time),
    (record.dir === 'in' ? '→' : '←').padEnd(COLUMNS.dir),
    fit(who, COLUMNS.who),
    fit(record.room, COLUMNS.room),
    fit(channel, COLUMNS.channel),
    fit(record.code ?? record.op ?? '', COLUMNS.op),
    String(record.size).padStart(COLUMNS.bytes),
    cut(record.excerpt ?? '', EXCERPT_COLUMN),
  ].join(' ').trimEnd();
}

function fit(text: string, width: number): string {
  return cut(text, width).padEnd(width);
}

function cut(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}
