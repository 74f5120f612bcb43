/**
 * The protocol inspector: records every frame between the server and its sessions (time, session,
 * direction, channel, op and an excerpt of JSON payloads, the code of ERRORs, size) to a JSON Lines trace
 * file that `confab trace` shows live, and optionally every frame's bytes to a pcap file that Wireshark opens.
 * Both go to the plugin's data directory unless told otherwise.
 *
 * It taps the core's `frameIn` and `frameOut` hooks, which cost nothing while no inspector is installed.
 * Channel names come from the WELCOME frames the server sends, exactly as a client learns them.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { definePlugin } from '../../core/config.js';
import { ConfabError, FrameType } from '../../core/wire.js';
import { describeValue, readOptions } from '../../core/options.js';
import type { Plugin, Session } from '../../core/index.js';
import { summarisePayload } from './describe.js';
import { DEFAULT_SNAPLEN, pcapFileHeader, pcapRecord } from './pcap.js';
import type { TraceRecord } from './trace.js';

/** Options of the inspector. */
export interface InspectorOptions {
  /** The trace file (JSON Lines). Default `<dataDir>/plugins/inspector/trace.jsonl`. Replaced at start-up. */
  file?: string;
  /**
   * Also write a pcap file (LINKTYPE_USER0, see pcap.ts): `true` for `<dataDir>/plugins/inspector/trace.pcap`,
   * or its path. Default false: no pcap. Replaced at start-up.
   */
  pcap?: string | boolean;
  /** Bytes kept of each packet in the pcap. Default 262 144. */
  snaplen?: number;
  /** Record PING and PONG frames too. Default false: heartbeats would fill the trace. */
  heartbeats?: boolean;
  /** Bytes waiting to be written above which records are dropped (and counted) rather than buffered. Default 16 MiB. */
  maxBufferedBytes?: number;
}

/** Core frame type id → name, for the `channel` column. */
const CORE_NAMES = new Map<number, string>(Object.entries(FrameType).map(([name, type]) => [type, name]));
const decoder = new TextDecoder();

/**
 * Creates the inspector plugin.
 *
 * @example
 *   defineConfig({ plugins: [inspector({ pcap: true }), ...builtinPlugins()] });
 *   // then, in another terminal: confab trace --follow   (reads .confab/plugins/inspector/trace.jsonl)
 */
export function inspector(options: InspectorOptions = {}): Plugin {
  const { pcap: pcapOption = false, ...rest } = options;
  if (typeof pcapOption !== 'boolean' && (typeof pcapOption !== 'string' || pcapOption === '')) {
    throw new ConfabError('CONFIG_INVALID', `plugin "inspector": option pcap must be true, false or a file path, got ${describeValue(pcapOption)}`);
  }
  const settings = readOptions('inspector', rest, {
    file: { type: 'string', nonEmpty: true },
    snaplen: { type: 'integer', min: 64, max: 2 ** 31 - 1, default: DEFAULT_SNAPLEN },
    heartbeats: { type: 'boolean', default: false },
    maxBufferedBytes: { type: 'integer', min: 64 * 1024, default: 16 * 1024 * 1024 },
  });

  return definePlugin({
    name: 'inspector',
    setup(ctx) {
      const open = (path: string) => {
        mkdirSync(dirname(path), { recursive: true });
        return createWriteStream(path, { flags: 'w' });
      };
      const tracePath = resolve(settings.file ?? join(ctx.dataDir, 'trace.jsonl'));
      const trace = open(tracePath);
      const pcapPath = pcapOption === false ? undefined : resolve(pcapOption === true ? join(ctx.dataDir, 'trace.pcap') : pcapOption);
      let pcap: WriteStream | undefined;
      if (pcapPath !== undefined) {
        pcap = open(pcapPath);
        pcap.write(pcapFileHeader(settings.snaplen));
      }
      const channelNames = new Map<number, string>();
      const jsonChannels = new Set<number>();
      let closed = false;
      let dropped = 0;
      ctx.log.info('tracing frames', { file: tracePath, pcap: pcapPath });

      const record = (session: Session, dir: 'in' | 'out', type: number, payload: Uint8Array) => {
        if (closed) return;
        if (!settings.heartbeats && (type === FrameType.PING || type === FrameType.PONG)) return;
        if (trace.writableLength > settings.maxBufferedBytes) {
          if (dropped++ === 0) ctx.log.warn('the trace file cannot keep up; dropping records');
          return;
        }
        const t = performance.timeOrigin + performance.now();
        const entry: TraceRecord = {
          t: Math.round(t * 1000) / 1000,
          dir,
          session: session.id,
          name: session.name,
          room: session.room.name,
          type,
          channel: CORE_NAMES.get(type) ?? channelNames.get(type) ?? `0x${type.toString(16)}`,
          size: payload.length,
          ...summarisePayload(type, payload, jsonChannels.has(type)),
        };
        trace.write(`${JSON.stringify(entry)}\n`);
        pcap?.write(pcapRecord(t, dir, session.id, type, payload, settings.snaplen));
      };

      ctx.hooks.frameIn.tap('inspector', (session, type, payload) => record(session, 'in', type, payload));
      ctx.hooks.frameOut.tap('inspector', (session, type, payload) => {
        if (type === FrameType.WELCOME) learnChannels(payload, channelNames, jsonChannels);
        record(session, 'out', type, payload);
      });
      ctx.hooks.close.tapPromise('inspector', async () => {
        closed = true;
        if (dropped > 0) ctx.log.warn('records dropped because the trace file could not keep up', { dropped });
        await Promise.all([trace, pcap].map((stream) => stream && new Promise<void>((done) => stream.end(done))));
      });
    },
  });
}

/** Takes the channel names and kinds from a WELCOME payload. */
function learnChannels(payload: Uint8Array, names: Map<number, string>, json: Set<number>): void {
  const welcome = JSON.parse(decoder.decode(payload)) as { channels: Record<string, number>; channelKinds: Record<string, string> };
  for (const [name, id] of Object.entries(welcome.channels)) {
    names.set(id, name);
    if (welcome.channelKinds[name] === 'json') json.add(id);
  }
}
