/**
 * Join latency bench: HELLO→WELCOME time for sequential joins into a room that already has 200 members
 * (and a full chat history of 100 messages, the chat plugin's default limit), over native TCP and over
 * WebSocket, against the real Confab server in a process of its own (pinned to CPU 0; this process pins
 * itself to CPU 1).
 *
 * Each join: open a connection (timed separately, not part of the join), send HELLO, wait for WELCOME
 * (the join latency), wait for the chat history that follows it, then send BYE and wait until the
 * server has closed the connection; the next join follows at once (or after --gap ms). The room stays at
 * 200 members + the joiner. Each join makes the server send PEER_JOINED and PEER_LEFT to the 200 members.
 *
 * The members live in this process too, so while joins are measured they stop reading (what the server
 * sends them waits in their socket buffers, well under its queue limit): otherwise this process would be
 * busy reading 200 PEER_JOINED frames while the joiner's WELCOME waits behind them, which is an artefact of
 * the bench, not the server. The server's work is the same either way.
 *
 * There is no baseline to compare with (a bare ws server's connection "open" time measures something
 * else), but the bench measures the machine's floor for such an exchange: the bare ws server relaying one
 * small message between two idle clients, in sequence (`relayFloor`).
 *
 *   node --import tsx bench/join-latency.ts [--members 200] [--joins 300] [--warmup-joins 20] [--history 100]
 *       [--gap 0] [--no-floor] [--json]
 */
import { connect as connectTcp } from 'node:net';
import { pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';
import { decodeSingleFrame, encodeJsonFrame, type Frame } from '../core/frame.js';
import { FrameDecoder } from '../core/frame-decoder.js';
import { FrameType, type Welcome } from '../core/protocol.js';
import { openClient, type BenchClient } from './fanout-clients.js';
import {
  fixed, machine, machineBusySeconds, ownCpuSeconds, parseArgs, pinSelf, processCpuSeconds, sleep, spawnServer, summarize, table, type Summary,
} from './harness.js';

/** The goal from the issue: join p99, ms. */
export const JOIN_GOAL_P99_MS = 5;

/** Options of the join bench. */
export interface JoinOptions {
  /** Members already in the room. Default 200. */
  members: number;
  /** Measured joins per transport. Default 300. */
  joins: number;
  /** Joins per transport before measuring. Default 20. */
  warmupJoins: number;
  /** Chat messages in the room's history before the joins. Default 100. */
  history: number;
  /** Pause after each join's connection closed, before the next join, ms. Default 0 (back to back). */
  gapMs: number;
  /** Also measure the environment's floor with the bare ws server (see `relayFloor`). Default true. */
  floor: boolean;
  /** Run Confab from this script instead of bench/confab-server.ts (the profiler runs a bundle). */
  confabScript?: string;
  /** Extra node flags for the Confab server process (`--cpu-prof`, …). */
  confabNodeArgs?: string[];
  /** Where progress lines go. Default stderr. */
  log?: (line: string) => void;
}

/** The defaults of `JoinOptions`. */
export const JOIN_DEFAULTS: JoinOptions = { members: 200, joins: 300, warmupJoins: 20, history: 100, gapMs: 0, floor: true };

/** Results for one transport. */
export interface JoinResult {
  transport: 'tcp' | 'ws';
  joins: number;
  /** Connection setup (TCP connect, or WebSocket upgrade), ms: not part of the join. */
  connect: Summary;
  /** HELLO sent → WELCOME received, ms. */
  welcome: Summary;
  /** HELLO sent → chat history received (the join is complete for a chat client), ms. */
  history: Summary;
  /** Server CPU per join, ms (includes PEER_JOINED/PEER_LEFT to every member and the BYE). */
  serverCpuMsPerJoin: number | undefined;
  /** CPU used by everything else on the machine meanwhile, cores. */
  otherCpu: number | undefined;
}

/** The join report. */
export interface JoinReport {
  date: string;
  machine: ReturnType<typeof machine>;
  pinning: { server: string; loadgen: string };
  options: Omit<JoinOptions, 'log'>;
  results: JoinResult[];
  /** The environment's floor: one small message relayed by the bare ws server between two idle clients. */
  floor: Summary | undefined;
  goal: { goal: string; met: boolean; detail: string };
}

interface Sample {
  connect: number;
  welcome: number;
  history: number;
}

/** A raw joining client: frames in, bytes out, and a promise for the close. */
interface Joiner {
  write(bytes: Uint8Array): void;
  onFrame(handler: (frame: Frame) => void): void;
  end(): void;
  closed: Promise<void>;
}

async function openTcp(port: number): Promise<Joiner> {
  const socket = connectTcp({ host: '127.0.0.1', port, noDelay: true });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.on('error', () => socket.destroy());
  const decoder = new FrameDecoder();
  let handler: (frame: Frame) => void = () => undefined;
  socket.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk).frames) handler(frame);
  });
  socket.on('end', () => socket.end());
  return {
    write: (bytes) => socket.write(bytes),
    onFrame: (h) => (handler = h),
    end: () => socket.end(),
    closed: new Promise((resolve) => socket.once('close', () => resolve())),
  };
}

async function openWs(port: number): Promise<Joiner> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.on('error', () => ws.terminate());
  let handler: (frame: Frame) => void = () => undefined;
  ws.on('message', (data: Buffer) => {
    const frame = decodeSingleFrame(data);
    if (frame) handler(frame);
  });
  return {
    write: (bytes) => ws.send(bytes),
    onFrame: (h) => (handler = h),
    end: () => ws.close(),
    closed: new Promise((resolve) => ws.once('close', () => resolve())),
  };
}

const utf8 = new TextDecoder();

async function joinOnce(transport: 'tcp' | 'ws', port: number, room: string, name: string): Promise<Sample> {
  const c0 = performance.now();
  const joiner = transport === 'tcp' ? await openTcp(port) : await openWs(port);
  const t0 = performance.now();
  let welcomeAt = NaN;
  let chatId = -1;
  const history = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${transport} join: no WELCOME and history within 10 s`)), 10_000);
    joiner.onFrame((frame) => {
      if (frame.type === FrameType.WELCOME) {
        welcomeAt = performance.now();
        chatId = (JSON.parse(utf8.decode(frame.payload)) as Welcome).channels.chat ?? -1;
      } else if (frame.type === chatId) {
        const now = performance.now();
        if ((JSON.parse(utf8.decode(frame.payload)) as { op?: string }).op === 'history') {
          clearTimeout(timer);
          resolve(now);
        }
      } else if (frame.type === FrameType.ERROR) {
        clearTimeout(timer);
        reject(new Error(`${transport} join refused: ${utf8.decode(frame.payload)}`));
      }
    });
  });
  joiner.write(encodeJsonFrame(FrameType.HELLO, { v: 1, name, room, client: 'bench' }));
  const historyAt = await history;
  joiner.write(encodeJsonFrame(FrameType.BYE, { reason: 'bench' }));
  await joiner.closed;
  return { connect: t0 - c0, welcome: welcomeAt - t0, history: historyAt - t0 };
}

/**
 * The latency floor of this machine for a join-like exchange: the bare ws broadcast server (pinned like
 * Confab) relays one small message from one idle client to another, `count` times in sequence. A join
 * cannot be faster than this here; on a VM whose idle CPUs take time to wake up, its p99 says how much of
 * a join's p99 is the environment.
 */
async function relayFloor(count: number, log: (line: string) => void): Promise<Summary> {
  const server = await spawnServer({ label: 'baseline', script: 'bench/baseline-ws-broadcast.ts', cpu: 0 });
  const open = async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return ws;
  };
  try {
    const [a, b] = [await open(), await open()];
    const samples: number[] = [];
    for (let i = 0; i < count + 20; i++) {
      const t0 = performance.now();
      const arrived = new Promise<void>((resolve) => b.once('message', () => resolve()));
      a.send(JSON.stringify({ op: 'send', text: `relay ${i}` }));
      await arrived;
      if (i >= 20) samples.push(performance.now() - t0);
    }
    a.close();
    b.close();
    const floor = summarize(samples);
    log(`  floor (bare ws relay): p50 ${fixed(floor.p50)} ms, p99 ${fixed(floor.p99)} ms`);
    return floor;
  } finally {
    await server.stop();
  }
}

/** Runs the join bench and returns the report. */
export async function runJoinLatency(options: Partial<JoinOptions> = {}, pinning?: { loadgen: string }): Promise<JoinReport> {
  const opts: JoinOptions = { ...JOIN_DEFAULTS, ...options };
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const loadgen = pinning?.loadgen ?? pinSelf(1);
  const server = await spawnServer({
    label: 'confab', script: opts.confabScript ?? 'bench/confab-server.ts', nodeArgs: opts.confabNodeArgs, cpu: 0,
  });
  const serverPinning = server.cpu === undefined ? 'server not pinned' : `server pinned to CPU ${server.cpu}`;
  const members: BenchClient[] = [];
  const room = 'join';
  let pinger: NodeJS.Timeout | undefined;
  const results: JoinResult[] = [];
  try {
    log(`join-latency: confab (pid ${server.pid}, port ${server.port}, ${serverPinning}); connecting ${opts.members} members…`);
    let acks = 0;
    for (let i = 0; i < opts.members; i += 20) {
      const batch = [];
      for (let j = i; j < Math.min(i + 20, opts.members); j++) {
        batch.push(openClient('confab', server.port, `m${j}`, room, { chat: () => undefined, ack: () => acks++ }));
      }
      members.push(...(await Promise.all(batch)));
    }
    const heartbeat = members[0]?.heartbeatMs;
    if (heartbeat) pinger = setInterval(() => members.forEach((member) => member.ping()), heartbeat);
    for (let i = 0; i < opts.history; i++) members[0]!.send(`history message ${i}: lorem ipsum dolor sit amet, consectetur adipiscing elit`);
    const deadline = performance.now() + 10_000;
    while (acks < opts.history && performance.now() < deadline) await sleep(10);
    await sleep(300);

    for (const transport of ['tcp', 'ws'] as const) {
      for (let i = 0; i < opts.warmupJoins; i++) await joinOnce(transport, server.port, room, `warm-${transport}`);
      for (const member of members) member.pause();
      const samples: Sample[] = [];
      const busy0 = machineBusySeconds();
      const cpu0 = processCpuSeconds(server.pid);
      const own0 = ownCpuSeconds();
      const wall0 = performance.now();
      for (let i = 0; i < opts.joins; i++) {
        samples.push(await joinOnce(transport, server.port, room, `joiner-${transport}`));
        if (opts.gapMs > 0) await sleep(opts.gapMs);
      }
      const cpu1 = processCpuSeconds(server.pid);
      const own1 = ownCpuSeconds();
      const busy1 = machineBusySeconds();
      for (const member of members) member.resume();
      await sleep(200);
      const seconds = (performance.now() - wall0) / 1000;
      const serverSeconds = cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined;
      const result: JoinResult = {
        transport,
        joins: samples.length,
        connect: summarize(samples.map((s) => s.connect)),
        welcome: summarize(samples.map((s) => s.welcome)),
        history: summarize(samples.map((s) => s.history)),
        serverCpuMsPerJoin: serverSeconds === undefined ? undefined : (serverSeconds * 1000) / samples.length,
        otherCpu: busy0 !== undefined && busy1 !== undefined && serverSeconds !== undefined
          ? Math.max(0, (busy1 - busy0 - serverSeconds - (own1 - own0)) / seconds) : undefined,
      };
      results.push(result);
      log(`  ${transport}: HELLO→WELCOME p50 ${fixed(result.welcome.p50)} ms, p99 ${fixed(result.welcome.p99)} ms, max ${fixed(result.welcome.max)} ms`);
    }
  } finally {
    clearInterval(pinger);
    for (const member of members) member.close();
    await sleep(200);
    await server.stop();
  }
  const floor = opts.floor ? await relayFloor(opts.joins, log) : undefined;
  const worst = Math.max(...results.map((r) => r.welcome.p99));
  return {
    date: new Date().toISOString(),
    machine: machine(),
    pinning: { server: serverPinning, loadgen },
    options: { ...opts, log: undefined } as Omit<JoinOptions, 'log'>,
    results,
    floor,
    goal: {
      goal: `join p99 (HELLO→WELCOME) < ${JOIN_GOAL_P99_MS} ms`,
      met: worst < JOIN_GOAL_P99_MS,
      detail: results.map((r) => `${r.transport}: ${fixed(r.welcome.p99)} ms`).join(', '),
    },
  };
}

/** The report as text. */
export function formatJoin(report: JoinReport): string {
  const { options } = report;
  const lines: string[] = [];
  lines.push(`Join latency — ${options.members} members in the room and ${options.history} messages of chat history; `
    + `${options.joins} sequential joins per transport after ${options.warmupJoins} warm-up joins, each followed by BYE `
    + `(the room stays at ${options.members} + the joiner)`);
  lines.push(`${report.machine.cpus} × ${report.machine.model}, Node ${report.machine.node}; ${report.pinning.server}, ${report.pinning.loadgen}`);
  lines.push('');
  lines.push(table(
    ['transport', 'joins', 'HELLO→WELCOME p50', 'p99', 'max', 'HELLO→history p50', 'p99', 'connect p50', 'srv CPU/join', 'other'],
    report.results.map((r) => [r.transport, r.joins, `${fixed(r.welcome.p50)} ms`, `${fixed(r.welcome.p99)} ms`, `${fixed(r.welcome.max)} ms`,
      `${fixed(r.history.p50)} ms`, `${fixed(r.history.p99)} ms`, `${fixed(r.connect.p50)} ms`,
      r.serverCpuMsPerJoin === undefined ? 'n/a' : `${fixed(r.serverCpuMsPerJoin)} ms`,
      r.otherCpu === undefined ? 'n/a' : `${(r.otherCpu * 100).toFixed(0)}%`]),
  ));
  lines.push('');
  lines.push('connect (TCP connect / WebSocket upgrade) is not part of the join; srv CPU/join includes PEER_JOINED and PEER_LEFT');
  lines.push('to every member and the BYE; other is CPU used by everything else on the machine meanwhile.');
  if (report.floor) {
    lines.push('');
    lines.push(`Floor of this machine: one small message relayed by the bare ws server between two idle clients, ${report.floor.count} in sequence: `
      + `p50 ${fixed(report.floor.p50)} ms, p99 ${fixed(report.floor.p99)} ms, max ${fixed(report.floor.max)} ms.`);
    lines.push('A join includes such a round trip, so its p99 cannot be below this p99 here.');
  }
  lines.push('');
  lines.push(`Goal (Confab):\n  ${(report.goal.met ? 'MET' : 'NOT MET').padEnd(7)}  ${report.goal.goal}: ${report.goal.detail}`);
  return lines.join('\n');
}

/** Options from the command line. */
export function joinOptionsFromArgs(args: Map<string, string>): Partial<JoinOptions> {
  const options: Partial<JoinOptions> = {};
  if (args.has('members')) options.members = Number(args.get('members'));
  if (args.has('joins')) options.joins = Number(args.get('joins'));
  if (args.has('warmup-joins')) options.warmupJoins = Number(args.get('warmup-joins'));
  if (args.has('history')) options.history = Number(args.get('history'));
  if (args.has('gap')) options.gapMs = Number(args.get('gap'));
  if (args.has('no-floor')) options.floor = false;
  return options;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = parseArgs(process.argv.slice(2));
  try {
    const report = await runJoinLatency(joinOptionsFromArgs(args));
    console.log(args.has('json') ? JSON.stringify(report, null, 2) : formatJoin(report));
  } catch (error) {
    console.error(error instanceof Error ? error.stack : String(error));
    process.exitCode = 1;
  }
}
