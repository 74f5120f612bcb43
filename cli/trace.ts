/**
 * `confab trace [FILE]`: shows a trace written by the inspector plugin as a table, optionally following the
 * file as the server appends to it (like `tail -f`), filtered by session and channel. Without FILE it reads
 * the inspector's default trace in the server's data directory.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfabError } from '../core/errors.js';
import { formatTraceRow, isOnChannel, parseTraceLine, traceHeader, type TraceRecord } from '../plugins/inspector/trace.js';

export const usage = `Usage: confab trace [FILE] [options]

Shows a trace file written by the inspector plugin (plugins/inspector) as a table: time, direction
(→ client to server, ← server to client), session, room, channel, op (an ERROR's code), payload bytes and
the start of a JSON payload. Without FILE: <data-dir>/plugins/inspector/trace.jsonl, where the inspector
writes by default.

Options:
  -f, --follow             keep reading as the server appends (Ctrl-C to stop)
  -s, --session <id|name>  only frames of sessions whose id starts with, or whose name is, this (repeatable)
  -c, --channel <name>     only frames on this channel or core frame type, e.g. chat or PEER_JOINED, and the
                           ERRORs that concern the channel (repeatable)
      --dir <in|out>       only frames from clients (in) or to clients (out)
      --json               print the matching records as JSON Lines instead of a table
      --data-dir <dir>     the server's data directory, for the default FILE (default ./.confab)
  -h, --help               show this help
`;

/** How often --follow looks for new bytes. */
const FOLLOW_INTERVAL_MS = 100;
/** Bytes read at a time. */
const CHUNK_BYTES = 64 * 1024;

/** Which records to show. */
interface Filter {
  sessions: string[];
  channels: string[];
  dir: 'in' | 'out' | undefined;
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      follow: { type: 'boolean', short: 'f' },
      session: { type: 'string', short: 's', multiple: true },
      channel: { type: 'string', short: 'c', multiple: true },
      dir: { type: 'string' },
      json: { type: 'boolean' },
      'data-dir': { type: 'string', default: '.confab' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (positionals.length > 1) {
    process.stderr.write(`confab trace: give at most one trace file; run confab trace --help\n`);
    return 2;
  }
  if (values.dir !== undefined && values.dir !== 'in' && values.dir !== 'out') {
    process.stderr.write(`confab trace: --dir must be in or out, got ${JSON.stringify(values.dir)}\n`);
    return 2;
  }
  const file = positionals[0] ?? join(values['data-dir'], 'plugins', 'inspector', 'trace.jsonl');
  if (!existsSync(file)) throw new ConfabError('TRACE_NOT_FOUND', `no trace file at ${file}; start the server with the inspector plugin (or give the file)`);
  const filter: Filter = { sessions: values.session ?? [], channels: values.channel ?? [], dir: values.dir };
  const print = values.json ? (r: TraceRecord) => `${JSON.stringify(r)}\n` : (r: TraceRecord) => `${formatTraceRow(r)}\n`;
  if (!values.json) process.stdout.write(`${traceHeader()}\n`);

  const reader = new TraceReader(file);
  const show = () => {
    for (const record of reader.readNew()) if (matches(record, filter)) process.stdout.write(print(record));
  };
  show();
  if (!values.follow) {
    reader.close();
    return reportSkipped(reader);
  }
  return new Promise((done) => {
    const timer = setInterval(show, FOLLOW_INTERVAL_MS);
    const stop = () => {
      clearInterval(timer);
      show();
      reader.close();
      done(reportSkipped(reader));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

function reportSkipped(reader: TraceReader): number {
  if (reader.skipped > 0) process.stderr.write(`confab trace: skipped ${reader.skipped} lines that are not trace records\n`);
  return 0;
}

/** True when the record passes every filter given. */
function matches(record: TraceRecord, filter: Filter): boolean {
  if (filter.dir && record.dir !== filter.dir) return false;
  if (filter.channels.length > 0 && !filter.channels.some((channel) => isOnChannel(record, channel))) return false;
  if (filter.sessions.length > 0 && !filter.sessions.some((s) => record.name === s || record.session.startsWith(s))) return false;
  return true;
}

/**
 * Reads a growing JSON Lines file: each call returns the whole lines added since the last one. A partial last
 * line waits for its end; a file that shrank (the server restarted and replaced it) is read from the start.
 */
class TraceReader {
  /** Lines that were not trace records. */
  skipped = 0;
  #fd: number;
  #offset = 0;
  #partial = '';
  #decoder = new TextDecoder();
  #path: string;

  constructor(path: string) {
    this.#path = path;
    this.#fd = openSync(path, 'r');
  }

  readNew(): TraceRecord[] {
    const size = statSync(this.#path).size;
    if (size < this.#offset) {
      this.#offset = 0;
      this.#partial = '';
    }
    const records: TraceRecord[] = [];
    const buffer = Buffer.alloc(CHUNK_BYTES);
    while (this.#offset < size) {
      const read = readSync(this.#fd, buffer, 0, CHUNK_BYTES, this.#offset);
      if (read === 0) break;
      this.#offset += read;
      const lines = (this.#partial + this.#decoder.decode(buffer.subarray(0, read), { stream: true })).split('\n');
      this.#partial = lines.pop()!;
      for (const line of lines) {
        if (line.trim() === '') continue;
        const record = parseTraceLine(line);
        if (record) records.push(record);
        else this.skipped++;
      }
    }
    return records;
  }

  close(): void {
    closeSync(this.#fd);
  }
}
