/**
 * Cluster bench (issue 15, "How it is measured"): `confab serve --workers 1` against `--workers 2` on this
 * machine, in one run, on one private Redis, with the same load generator (native framed TCP clients,
 * bench/cluster-clients.ts):
 *
 *  1. mixer rooms: rooms of 20 Opus talkers (+ listeners, as bench/mix.ts has them) are added one at a time,
 *     placed by the directory; every talker sends at a random phase of the 20 ms, as microphones that did not
 *     start together. After each room, every worker's mixer tick lateness is read from the
 *     `confab_audio_tick_lateness_seconds` histogram of that worker (scraped on its node link port, which
 *     answers HTTP) over a window. Rooms held: the most rooms at a step where every worker's p99 was ≤ 2 ms
 *     (exact: at most 1 % of its ticks over the 2 ms bucket bound); a step that misses is measured again,
 *     up to `--tries` windows (a stall of the VM can spoil one), and rooms are added until a step misses in
 *     all of them.
 *  2. video relay: a few rooms, each one JPEG publisher and S subscribers, placed by the directory; the
 *     publishers' frame rate is raised step by step until a window loses a delivery. Reported: the most
 *     deliveries/s of a window with no loss. One subscriber per room reads each frame as it comes and gives
 *     the latency; the others read their socket every 20 ms (bench/cluster-clients.ts), so that this process
 *     does not spend a read per delivery on the core it shares with worker 1.
 *  3. join latency (HELLO → WELCOME, connect not timed) into a room with one member: with `--workers 2`,
 *     classified per join as accepted by the hosting worker (direct) or handed over (socket passed through
 *     the primary), from each worker's `confab_connections_total{transport="tcp"}`; and between two
 *     `confab serve` nodes on 127.0.0.1 and 127.0.0.2, a join through the host against one relayed over the
 *     node link by the other.
 *
 *   node --import tsx bench/cluster.ts [--duration 8] [--warmup 3] [--tries 3] [--listeners 20] [--max-rooms 10]
 *        [--relay-rooms 8] [--subscribers 50] [--frame-bytes 4000] [--fps 30,60,120,180,240,320,400,500,600]
 *        [--joins 600] [--only mix,relay,join] [--json]
 *
 * Placement (2 CPUs): the primary and worker 0 on CPU 0, worker 1 on CPU 1; the load generator (this process)
 * is not pinned and runs SCHED_IDLE, so with two workers it takes only what the workers leave. The report says
 * what was pinned and how each process was scheduled.
 * On a machine with no core of its own for the load generator, a delivery costs the load generator about
 * what it costs the server, which bounds what the relay step can show: see bench/README.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { getPriority, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { encodeMediaFrame, MediaCodec } from '../core/media.js';
import { loadOpus, type OpusCodec } from '../plugins/audio-mix/opus-codec.js';
import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE } from '../plugins/audio-mix/protocol.js';
import { startRedis, type TestRedis } from '../test/helpers/redis.js';
import { openClient, type BenchClient, type OpenOptions } from './cluster-clients.js';
import {
  ROOT, backgroundLoad, canPin, fixed, int, machine, machineBusySeconds, ownCpuSeconds, parseArgs, processCpuSeconds, sleep, summarize, table,
  type Summary,
} from './harness.js';

const SECRET = 'the cluster bench secret, 16+ chars';
const CLI = join(ROOT, 'cli/confab.mjs');

const args = parseArgs(process.argv.slice(2));
const opts = {
  durationS: Number(args.get('duration') ?? 8),
  warmupS: Number(args.get('warmup') ?? 3),
  tries: Number(args.get('tries') ?? 3),
  talkers: Number(args.get('talkers') ?? 20),
  listeners: Number(args.get('listeners') ?? 20),
  maxRooms: Number(args.get('max-rooms') ?? 10),
  relayRooms: Number(args.get('relay-rooms') ?? 8),
  subscribers: Number(args.get('subscribers') ?? 50),
  frameBytes: Number(args.get('frame-bytes') ?? 4000),
  fps: (args.get('fps') ?? '30,60,120,180,240,320,400,500,600').split(',').map(Number),
  joins: Number(args.get('joins') ?? 600),
  only: new Set((args.get('only') ?? 'mix,relay,join').split(',')),
  json: args.has('json'),
};

// ---------------------------------------------------------------------------------------------------------
// Processes: Redis, `confab serve` (primary and workers), all stopped by PID on success, error and Ctrl-C.

interface WorkerInfo {
  index: number;
  pid: number;
  id: string;
  linkHost: string;
  linkPort: number;
  /** The CPU it was pinned to, if it was. */
  cpu: number | undefined;
}

interface Serve {
  label: string;
  host: string;
  port: number;
  primary: ChildProcess;
  workers: WorkerInfo[];
  stop(): Promise<void>;
}

const running = new Set<Serve>();
let redis: TestRedis | undefined;

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** A TCP port free on 127.0.0.1 now, low enough that the workers' UDP ports after it exist. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => (port < 65000 ? resolve(port) : resolve(freePort())));
    });
  });
}

/**
 * Starts `confab serve` with the bench config: `workers` worker processes behind `port`, or (workers
 * undefined) one node on `host` and a free port. `cpus[i]` is where worker i goes (the primary goes where
 * worker 0 does). Resolves once every node printed its `Cluster node` line.
 */
async function startServe(label: string, { workers, host, cpus }: { workers?: number; host: string; cpus: number[] }): Promise<Serve> {
  const port = workers === undefined ? 0 : await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'confab-bench-cluster-'));
  const node = [process.execPath, CLI, 'serve', '--config', 'bench/cluster-config.ts', '--host', host, '--port', String(port),
    '--data-dir', dataDir, '--log-level', 'warn', ...(workers !== undefined ? ['--workers', String(workers)] : [])];
  const first = cpus[0] !== undefined && canPin(cpus[0]) ? cpus[0] : undefined;
  const [command, ...rest] = first === undefined ? node : ['taskset', '-c', String(first), ...node];
  const primary = spawn(command!, rest, {
    cwd: ROOT,
    env: { ...process.env, CONFAB_REDIS_URL: redis!.url, CONFAB_CLUSTER_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  serverPriority(primary.pid!);
  const found: WorkerInfo[] = [];
  let listeningPort = port;
  const exited = new Promise<void>((resolve) => primary.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  const serve: Serve = {
    label, host, primary, workers: found,
    get port() {
      return listeningPort;
    },
    stop() {
      stopping ??= (async () => {
        if (primary.exitCode === null && primary.signalCode === null) {
          primary.kill('SIGTERM');
          await Promise.race([exited, sleep(8000)]);
        }
        // Whatever is left (a worker that did not stop, or the primary): SIGKILL by PID.
        for (const pid of [primary.pid!, ...found.map((w) => w.pid)]) kill(pid, 'SIGKILL');
        running.delete(serve);
        rmSync(dataDir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
  running.add(serve);
  createInterface({ input: primary.stderr! }).on('line', (line) => say(`[${label}] ${line}`));
  const expected = workers ?? 1;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label}: ${found.length} of ${expected} nodes listening after 60 s`)), 60_000);
    void exited.then(() => reject(new Error(`${label}: confab serve exited (${primary.exitCode ?? primary.signalCode})`)));
    createInterface({ input: primary.stdout! }).on('line', (line) => {
      const listening = /Confab listening on http:\/\/[^ ]+:(\d+)/.exec(line);
      if (listening && workers === undefined) listeningPort = Number(listening[1]);
      const node = /Cluster node (\S+) \(pid (\d+)\), link port (\d+)/.exec(line);
      if (node) {
        const index = Number(/-w(\d+)-/.exec(node[1]!)?.[1] ?? 0);
        found.push({ index, pid: Number(node[2]), id: node[1]!, linkHost: host, linkPort: Number(node[3]), cpu: undefined });
        if (found.length === expected) {
          clearTimeout(timer);
          resolve();
        }
      } else if (!listening && !/^Confab primary/.test(line)) {
        say(`[${label}] ${line}`);
      }
    });
  }).catch(async (error: unknown) => {
    await serve.stop();
    throw error;
  });
  found.sort((a, b) => a.index - b.index);
  for (const worker of found) {
    serverPriority(worker.pid);
    const cpu = cpus[worker.index];
    if (cpu === undefined || !canPin(cpu)) continue;
    try {
      execFileSync('taskset', ['-a', '-cp', String(cpu), String(worker.pid)], { stdio: 'ignore' });
      worker.cpu = cpu;
    } catch {
      // Left unpinned; the report shows it.
    }
  }
  return serve;
}

/**
 * The load generator runs only on what the servers leave of the CPUs (it stands for clients on other
 * machines, which take nothing from the server): this process is SCHED_IDLE (chrt --idle), or at nice 19
 * where that fails. A process it starts inherits that, so each server process is set back to the normal
 * policy and priority, which needs root or CAP_SYS_NICE.
 */
function loadGeneratorPriority(): string {
  try {
    execFileSync('chrt', ['--all-tasks', '--idle', '--pid', '0', String(process.pid)], { stdio: 'ignore' });
    return 'SCHED_IDLE';
  } catch {
    setPriority(19);
    return `nice ${getPriority()}`;
  }
}

function serverPriority(pid: number): void {
  try {
    execFileSync('chrt', ['--all-tasks', '--other', '--pid', '0', String(pid)], { stdio: 'ignore' });
    setPriority(pid, 0);
  } catch {
    // Left at the load generator's priority; the report shows it.
  }
}

/** A process's scheduling policy and nice value, for the report. */
function schedulingOf(pid: number): string {
  try {
    const policy = /policy: (\S+)/.exec(execFileSync('chrt', ['--pid', String(pid)], { encoding: 'utf8' }))?.[1] ?? '?';
    return `${policy}, nice ${getPriority(pid)}`;
  } catch {
    return 'scheduling unknown';
  }
}

function kill(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

async function stopEverything(): Promise<void> {
  await Promise.allSettled([...running].map((serve) => serve.stop()));
  await redis?.stop();
}

process.once('exit', () => {
  for (const serve of running) for (const pid of [serve.primary.pid!, ...serve.workers.map((w) => w.pid)]) kill(pid, 'SIGKILL');
});
for (const name of ['SIGINT', 'SIGTERM'] as const) {
  process.once(name, () => {
    say(`\n${name}: stopping confab serve and Redis…`);
    void stopEverything().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------------------
// /metrics of one worker, on its node link port (which answers HTTP GET with the node's own /metrics).

async function scrape(worker: WorkerInfo): Promise<string> {
  const response = await fetch(`http://${worker.linkHost}:${worker.linkPort}/metrics`);
  return response.text();
}

/** The sum of every sample of `name` whose labels include `label` (e.g. `transport="tcp"`). */
function sample(text: string, name: string, label?: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (label && !line.includes(label)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return total;
}

/** A histogram's cumulative bucket counts: upper bound in seconds (Infinity for +Inf) → count. */
function buckets(text: string, name: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le === undefined) continue;
    out.set(le === '+Inf' ? Infinity : Number(le), Number(line.slice(line.lastIndexOf(' ') + 1)) || 0);
  }
  return out;
}

/** What a histogram observed between two scrapes: count, count ≤ `bound` s, and p99 interpolated in its bucket (ms). */
function histogramWindow(before: Map<number, number>, after: Map<number, number>, bound: number): { count: number; within: number; p99Ms: number } {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const diff = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const count = diff[diff.length - 1] ?? 0;
  const within = diff[bounds.indexOf(bound)] ?? 0;
  if (count === 0) return { count, within, p99Ms: NaN };
  const rank = Math.ceil(0.99 * count);
  let p99Ms = NaN;
  for (let i = 0; i < bounds.length; i++) {
    if (diff[i]! < rank) continue;
    const lower = i === 0 ? 0 : bounds[i - 1]!;
    const upper = Number.isFinite(bounds[i]!) ? bounds[i]! : lower;
    const below = i === 0 ? 0 : diff[i - 1]!;
    const inBucket = diff[i]! - below;
    p99Ms = 1000 * (lower + (upper - lower) * (inBucket > 0 ? (rank - below) / inBucket : 1));
    break;
  }
  return { count, within, p99Ms };
}

// ---------------------------------------------------------------------------------------------------------
// Clients and heartbeats.

const live = new Set<BenchClient>();
let pinger: NodeJS.Timeout | undefined;

/** What a bench client does with what it receives: see bench/cluster-clients.ts. */
type Receiving = Pick<OpenOptions, 'onMedia' | 'batchReads'>;

async function connect(serve: Serve, room: string, name: string, receiving: Receiving = {}): Promise<BenchClient> {
  const client = await openClient({ host: serve.host, port: serve.port, room, name, ...receiving });
  live.add(client);
  pinger ??= setInterval(() => live.forEach((c) => c.ping()), Math.max(500, Math.floor(client.welcome.heartbeatMs / 2)));
  return client;
}

async function closeAll(clients: BenchClient[]): Promise<void> {
  for (let i = 0; i < clients.length; i += 50) await Promise.all(clients.slice(i, i + 50).map((c) => c.close()));
  for (const c of clients) live.delete(c);
}

/** The worker hosting the session's room: its UDP port is port+1+i (WELCOME's udpPort), or worker 0. */
function hostWorker(serve: Serve, client: BenchClient): number {
  const udp = client.welcome.udpPort;
  return serve.workers.length > 1 && udp !== undefined ? udp - serve.port - 1 : 0;
}

/** Opens `count` clients, 20 at a time (after a first one, which placed the room). */
async function openMany(serve: Serve, room: string, prefix: string, count: number, receiving: Receiving = {}): Promise<BenchClient[]> {
  const out: BenchClient[] = [];
  for (let i = 0; i < count; i += 20) {
    const batch = [];
    for (let j = i; j < Math.min(i + 20, count); j++) batch.push(connect(serve, room, `${prefix}${j}`, receiving));
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

interface CpuSnapshot {
  at: number;
  workers: number[];
  primary: number;
  own: number;
  busy: number | undefined;
  redis: number;
}

function cpuSnapshot(serve: Serve): CpuSnapshot {
  return {
    at: performance.now(),
    workers: serve.workers.map((w) => processCpuSeconds(w.pid) ?? NaN),
    primary: serve.workers.length > 1 ? processCpuSeconds(serve.primary.pid!) ?? 0 : 0,
    own: ownCpuSeconds(),
    busy: machineBusySeconds(),
    redis: processCpuSeconds(redis!.pid) ?? 0,
  };
}

/** Cores used per worker, by the load generator, and by everything else, between two snapshots. */
function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): { workers: number[]; loadgen: number; other: number | undefined } {
  const s = (b.at - a.at) / 1000;
  const workers = b.workers.map((v, i) => (v - a.workers[i]!) / s);
  const loadgen = (b.own - a.own) / s;
  const ours = workers.reduce((x, y) => x + y, 0) + loadgen + (b.primary - a.primary) / s + (b.redis - a.redis) / s;
  const other = a.busy !== undefined && b.busy !== undefined ? Math.max(0, (b.busy - a.busy) / s - ours) : undefined;
  return { workers, loadgen, other };
}

/** Waits until every worker used under 5 % of a core over 250 ms (at most 15 s): joins' PEER_JOINED written. */
async function settle(serve: Serve): Promise<void> {
  const giveUp = performance.now() + 15_000;
  while (performance.now() < giveUp) {
    const a = cpuSnapshot(serve);
    await sleep(250);
    if (cpuBetween(a, cpuSnapshot(serve)).workers.every((c) => !(c >= 0.05))) return;
  }
}

// ---------------------------------------------------------------------------------------------------------
// 1. Mixer rooms.

interface MixStep {
  rooms: number;
  /** Which window of the step this is (1 unless an earlier one missed). */
  window: number;
  /** Rooms per worker. */
  placement: number[];
  perWorker: Array<{ ticks: number; lateOver2Ms: number; p99Ms: number; cpu: number }>;
  worstP99Ms: number;
  held: boolean;
  mixesPerSec: number;
  expectedMixesPerSec: number;
  loadgenCpu: number;
  otherCpu: number | undefined;
}

interface MixResult {
  workers: number;
  steps: MixStep[];
  roomsHeld: number;
}

const LATENESS = 'confab_audio_tick_lateness_seconds';
const STREAMS = 8;
const LOOP_FRAMES = 50;

let opusStreams: Uint8Array[][] | undefined;

function tone(hz: number, index: number, amplitude: number): Int16Array {
  const frame = new Int16Array(FRAME_SAMPLES);
  for (let i = 0; i < FRAME_SAMPLES; i++) frame[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * (index * FRAME_SAMPLES + i)) / SAMPLE_RATE));
  return frame;
}

/** As bench/mix.ts: STREAMS looped tones of LOOP_FRAMES Opus packets each, encoded once here. */
function makeOpusStreams(opus: OpusCodec): Uint8Array[][] {
  return Array.from({ length: STREAMS }, (_, stream) => {
    const encoder = opus.createEncoder();
    return Array.from({ length: LOOP_FRAMES }, (_, index) => encoder.encode(tone(220 + 110 * stream, index, 600)));
  });
}

async function measureMix(serve: Serve): Promise<MixResult> {
  const workers = serve.workers.length;
  const talkers: BenchClient[] = [];
  const everyone: BenchClient[] = [];
  const placement = new Array<number>(workers).fill(0);
  let mixes = 0;
  const onMix = () => void mixes++;
  // Every talker sends one Opus packet every 20 ms, drift-free, at a phase of its own in the 20 ms (as people's
  // microphones are: they do not start together); a late loop catches up.
  let sending = true;
  const phases: number[] = [];
  const sent: number[] = [];
  const began = performance.now();
  const loop = () => {
    if (!sending) return;
    const now = performance.now();
    for (let i = 0; i < talkers.length; i++) {
      const due = Math.floor((now - began - phases[i]!) / FRAME_MS);
      for (let tick = sent[i]!; tick <= due; tick++) {
        const talker = talkers[i]!;
        talker.send(talker.welcome.channels.audio!, encodeMediaFrame({
          codec: MediaCodec.OPUS, keyframe: true, seq: tick, captureMs: Date.now(), sender: '', data: opusStreams![i % STREAMS]![tick % LOOP_FRAMES]!,
        }));
      }
      sent[i] = Math.max(sent[i]!, due + 1);
    }
    setTimeout(loop, 1);
  };
  loop();
  /** One window of `durationS`: every worker's tick lateness from its histogram, CPU, and mixes received. */
  const mixWindow = async (rooms: number, window: number): Promise<MixStep> => {
    const before = await Promise.all(serve.workers.map(async (w) => buckets(await scrape(w), LATENESS)));
    const cpuA = cpuSnapshot(serve);
    const mixesA = mixes;
    await sleep(opts.durationS * 1000);
    const cpuB = cpuSnapshot(serve);
    const mixesB = mixes;
    const after = await Promise.all(serve.workers.map(async (w) => buckets(await scrape(w), LATENESS)));
    const cpu = cpuBetween(cpuA, cpuB);
    const perWorker = serve.workers.map((_, i) => {
      const counted = histogramWindow(before[i]!, after[i]!, 0.002);
      return { ticks: counted.count, lateOver2Ms: counted.count - counted.within, p99Ms: counted.p99Ms, cpu: cpu.workers[i]! };
    });
    return {
      rooms, window, placement: [...placement], perWorker,
      worstP99Ms: Math.max(...perWorker.map((w) => (Number.isFinite(w.p99Ms) ? w.p99Ms : 0))),
      // p99 ≤ 2 ms ⇔ at least ⌈0.99·n⌉ ticks within the 2 ms bucket bound (a worker with no rooms has no ticks).
      held: perWorker.every((w) => w.ticks === 0 || w.ticks - w.lateOver2Ms >= Math.ceil(0.99 * w.ticks)),
      mixesPerSec: (mixesB - mixesA) / ((cpuB.at - cpuA.at) / 1000),
      expectedMixesPerSec: (rooms * (opts.talkers + opts.listeners) * 1000) / FRAME_MS,
      loadgenCpu: cpu.loadgen,
      otherCpu: cpu.other,
    };
  };
  const steps: MixStep[] = [];
  try {
    for (let rooms = 1; rooms <= opts.maxRooms; rooms++) {
      const room = `mix-w${workers}-${rooms}`;
      const first = await connect(serve, room, 't0', { onMedia: onMix, batchReads: true });
      const rest = await openMany(serve, room, 't', opts.talkers - 1, { onMedia: onMix, batchReads: true });
      const listeners = await openMany(serve, room, 'l', opts.listeners, { onMedia: onMix, batchReads: true });
      for (const client of [first, ...rest, ...listeners]) client.sendJson('audio-control', { op: 'listen', codec: 'opus' });
      placement[hostWorker(serve, first)]!++;
      for (let i = 0; i < opts.talkers; i++) {
        const phase = Math.random() * FRAME_MS;
        phases.push(phase);
        sent.push(Math.floor((performance.now() - began - phase) / FRAME_MS) + 1);
      }
      talkers.push(first, ...rest);
      everyone.push(first, ...rest, ...listeners);
      await sleep(opts.warmupS * 1000);
      // A stall of the VM (not of the worker) can make one window miss: a step gets up to `tries` windows.
      let step: MixStep | undefined;
      for (let window = 1; window <= opts.tries && !step?.held; window++) {
        step = await mixWindow(rooms, window);
        say(`  mix, ${workers} worker(s): ${rooms} room(s) ${JSON.stringify(placement)}, window ${window}: p99 ${step.perWorker.map((w) => fixed(w.p99Ms)).join(' / ')} ms, `
          + `CPU ${step.perWorker.map((w) => pct(w.cpu)).join(' / ')}, loadgen ${pct(step.loadgenCpu)} → ${step.held ? 'held' : 'NOT held'}`);
      }
      steps.push(step!);
      if (!step!.held) break;
    }
  } finally {
    sending = false;
    await closeAll(everyone);
  }
  const roomsHeld = steps.filter((step) => step.held).length;
  return { workers, steps, roomsHeld };
}

// ---------------------------------------------------------------------------------------------------------
// 2. Video relay.

interface RelayStep {
  fps: number;
  offeredPerSec: number;
  deliveredPerSec: number;
  expected: number;
  lost: number;
  /** No delivery lost, and the window's deliveries came within it (≥ 97 % of what was offered): no queue grew. */
  keptUp: boolean;
  serverDropped: number;
  latency: Summary;
  workerCpu: number[];
  loadgenCpu: number;
  otherCpu: number | undefined;
}

interface RelayResult {
  workers: number;
  placement: number[];
  steps: RelayStep[];
  /** The most deliveries/s of a window that kept up. */
  bestNoLoss: number;
  bestFps: number | undefined;
}

async function measureRelay(serve: Serve): Promise<RelayResult> {
  const workers = serve.workers.length;
  const placement = new Array<number>(workers).fill(0);
  const rooms = opts.relayRooms;
  const seq = new Array<number>(rooms).fill(0);
  const seqFrom = new Array<number>(rooms).fill(Infinity);
  const seqTo = new Array<number>(rooms).fill(Infinity);
  let windowStart = Infinity;
  let windowEnd = Infinity;
  let inWindow = 0;
  let ofWindow = 0;
  let latencies = new Float64Array(0);
  let count = 0;
  // Subscriber 0 of each room reads every frame as it comes and measures latency; the others read in batches.
  const onFrame = (room: number, probe: boolean) => (_type: number, payload: Uint8Array) => {
    const now = performance.now();
    if (now >= windowStart && now < windowEnd) inWindow++;
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const s = view.getUint32(4);
    if (s >= seqFrom[room]! && s < seqTo[room]!) {
      ofWindow++;
      if (probe && count < latencies.length) latencies[count++] = now - view.getFloat64(8);
    }
  };
  const publishers: BenchClient[] = [];
  const everyone: BenchClient[] = [];
  const data = new Uint8Array(opts.frameBytes).fill(0x5a);
  const dropped = async () => Promise.all(serve.workers.map(async (w) => sample(await scrape(w), 'confab_media_dropped_total')));
  const steps: RelayStep[] = [];
  try {
    for (let r = 0; r < rooms; r++) {
      const room = `relay-w${workers}-${r}`;
      const publisher = await connect(serve, room, 'publisher');
      const probe = await connect(serve, room, 'probe', { onMedia: onFrame(r, true) });
      const subs = [probe, ...(await openMany(serve, room, 's', opts.subscribers - 1, { onMedia: onFrame(r, false), batchReads: true }))];
      placement[hostWorker(serve, publisher)]!++;
      publishers.push(publisher);
      everyone.push(publisher, ...subs);
      // The directory places a new room on the node with the fewest sessions as of its last renewal (every second).
      if (r < rooms - 1) await sleep(1200);
    }
    await settle(serve);
    for (const fps of opts.fps) {
      // Open loop: frame k of every publisher leaves at start + k / fps.
      let sending = true;
      const began = performance.now();
      let k = 0;
      const loop = () => {
        if (!sending) return;
        const due = Math.floor(((performance.now() - began) * fps) / 1000);
        for (; k <= due; k++) {
          const now = performance.now();
          for (let r = 0; r < rooms; r++) {
            const p = publishers[r]!;
            p.send(p.welcome.channels.video!, encodeMediaFrame({ codec: MediaCodec.JPEG, keyframe: true, seq: seq[r]!++, captureMs: now, sender: '', data }));
          }
        }
        setTimeout(loop, Math.max(0, began + (k * 1000) / fps - performance.now()));
      };
      loop();
      await sleep(1000);
      latencies = new Float64Array(Math.ceil(fps * (opts.durationS + 1) * rooms * opts.subscribers));
      count = 0;
      inWindow = 0;
      ofWindow = 0;
      const droppedA = await dropped();
      const cpuA = cpuSnapshot(serve);
      for (let r = 0; r < rooms; r++) {
        seqFrom[r] = seq[r]!;
        seqTo[r] = Infinity;
      }
      windowEnd = Infinity;
      windowStart = performance.now();
      await sleep(opts.durationS * 1000);
      windowEnd = performance.now();
      for (let r = 0; r < rooms; r++) seqTo[r] = seq[r]!;
      const cpuB = cpuSnapshot(serve);
      sending = false;
      let expected = 0;
      for (let r = 0; r < rooms; r++) expected += (seqTo[r]! - seqFrom[r]!) * opts.subscribers;
      const drainUntil = performance.now() + 5000;
      while (ofWindow < expected && performance.now() < drainUntil) await sleep(20);
      const droppedB = await dropped();
      const seconds = (windowEnd - windowStart) / 1000;
      const cpu = cpuBetween(cpuA, cpuB);
      const lost = Math.max(0, expected - ofWindow);
      const step: RelayStep = {
        fps,
        offeredPerSec: (expected / seconds),
        deliveredPerSec: inWindow / seconds,
        expected,
        lost,
        keptUp: lost === 0 && inWindow >= 0.97 * expected,
        serverDropped: droppedB.reduce((a, b) => a + b, 0) - droppedA.reduce((a, b) => a + b, 0),
        latency: summarize(latencies.subarray(0, count)),
        workerCpu: cpu.workers,
        loadgenCpu: cpu.loadgen,
        otherCpu: cpu.other,
      };
      steps.push(step);
      say(`  relay, ${workers} worker(s), ${JSON.stringify(placement)}: ${fps} fps → ${int(step.deliveredPerSec)}/s, lost ${step.lost}/${int(expected)}, `
        + `p99 ${fixed(step.latency.p99)} ms, CPU ${cpu.workers.map(pct).join(' / ')}, loadgen ${pct(cpu.loadgen)}`);
      // Let what is queued drain before the next rate.
      await settle(serve);
      if (!step.keptUp) break;
    }
  } finally {
    await closeAll(everyone);
  }
  const clean = steps.filter((s) => s.keptUp);
  const best = clean.reduce<RelayStep | undefined>((a, s) => (!a || s.deliveredPerSec > a.deliveredPerSec ? s : a), undefined);
  return { workers, placement, steps, bestNoLoss: best?.deliveredPerSec ?? 0, bestFps: best?.fps };
}

// ---------------------------------------------------------------------------------------------------------
// 3. Join latency.

interface JoinSeries {
  path: string;
  samples: number[];
}

const TCP = 'transport="tcp"';

/** Sequential joins through `serve`'s port; with several workers, each classified as direct or handed over. */
async function measureJoinsWorkers(serve: Serve): Promise<JoinSeries[]> {
  const workers = serve.workers.length;
  const room = `join-w${workers}`;
  const holder = await connect(serve, room, 'holder');
  const host = hostWorker(serve, holder);
  const direct: number[] = [];
  const handed: number[] = [];
  const counters = async () => Promise.all(serve.workers.map(async (w) => sample(await scrape(w), 'confab_connections_total', TCP)));
  try {
    for (let i = 0; i < 20; i++) await (await openClient({ host: serve.host, port: serve.port, room, name: `warm${i}` })).close();
    let before = workers > 1 ? await counters() : [];
    for (let i = 0; i < opts.joins; i++) {
      const client = await openClient({ host: serve.host, port: serve.port, room, name: `j${i}` });
      await client.close();
      if (workers === 1) {
        direct.push(client.joinMs);
        continue;
      }
      const after = await counters();
      // The worker that accepted the socket counts it, and so does the host when it was passed to it.
      const viaOther = after.some((value, w) => w !== host && value > before[w]!);
      (viaOther ? handed : direct).push(client.joinMs);
      before = after;
    }
  } finally {
    await closeAll([holder]);
  }
  return workers === 1
    ? [{ path: '--workers 1, direct', samples: direct }]
    : [{ path: `--workers ${workers}, accepted by the hosting worker`, samples: direct },
      { path: `--workers ${workers}, handed over (socket passed)`, samples: handed }];
}

/** Two `confab serve` nodes, 127.0.0.1 and 127.0.0.2: joins alternately through the host and through the other (relayed). */
async function measureJoinsLink(a: Serve, b: Serve): Promise<JoinSeries[]> {
  const room = 'join-link';
  const holder = await connect(a, room, 'holder');
  // WELCOME names another UDP port when the room lives on the other node.
  const [host, other] = holder.welcome.udpPort !== undefined && holder.welcome.udpPort !== a.port ? [b, a] : [a, b];
  const direct: number[] = [];
  const relayed: number[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      for (const node of [host, other]) await (await openClient({ host: node.host, port: node.port, room, name: `warm${i}` })).close();
    }
    for (let i = 0; i < opts.joins; i++) {
      for (const [node, into] of [[host, direct], [other, relayed]] as const) {
        const client = await openClient({ host: node.host, port: node.port, room, name: `j${i}` });
        await client.close();
        into.push(client.joinMs);
      }
    }
  } finally {
    await closeAll([holder]);
  }
  return [
    { path: `two nodes, direct to the host (${host.host})`, samples: direct },
    { path: `two nodes, relayed over the node link (${other.host} → ${host.host})`, samples: relayed },
  ];
}

// ---------------------------------------------------------------------------------------------------------
// The run.

function pct(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '—' : `${(value * 100).toFixed(0)}%`;
}

function ratio(a: number, b: number): number {
  return b > 0 ? a / b : NaN;
}

function describe(serve: Serve): string {
  const primary = serve.workers.length > 1 ? `primary on CPU ${serve.workers[0]?.cpu ?? 'any'}, ` : '';
  return `${serve.label}: ${primary}${serve.workers.map((w) => `worker ${w.index} (pid ${w.pid}) ${w.cpu === undefined ? 'not pinned' : `on CPU ${w.cpu}`}, ${schedulingOf(w.pid)}`).join(', ')}`;
}

const otherBefore = await backgroundLoad(1000);
const pinning: string[] = [`load generator (this process) not pinned, ${loadGeneratorPriority()}; the servers SCHED_OTHER at nice 0 (as root)`];
const mix: MixResult[] = [];
const relay: RelayResult[] = [];
const joins: JoinSeries[] = [];
const startedAt = Date.now();
try {
  if (opts.only.has('mix')) {
    const opus = await loadOpus();
    if (!opus) throw new Error('no Opus codec loaded; the bench needs @evan/opus or opusscript');
    opusStreams = makeOpusStreams(opus);
  }
  redis = await startRedis();
  for (const workers of [1, 2]) {
    const serve = await startServe(`--workers ${workers}`, { workers, host: '127.0.0.1', cpus: [0, 1] });
    pinning.push(describe(serve));
    try {
      if (opts.only.has('mix')) mix.push(await measureMix(serve));
      if (opts.only.has('relay')) relay.push(await measureRelay(serve));
      if (opts.only.has('join')) joins.push(...(await measureJoinsWorkers(serve)));
    } finally {
      await serve.stop();
    }
  }
  if (opts.only.has('join')) {
    const a = await startServe('node A', { host: '127.0.0.1', cpus: [0] });
    const b = await startServe('node B', { host: '127.0.0.2', cpus: [1] });
    pinning.push(describe(a), describe(b));
    try {
      joins.push(...(await measureJoinsLink(a, b)));
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }
} finally {
  if (pinger) clearInterval(pinger);
  for (const client of live) client.destroy();
  await stopEverything();
}

// Goals.
const goals: Array<{ name: string; value: string; goal: string; met: boolean | undefined }> = [];
if (mix.length === 2) {
  const r = ratio(mix[1]!.roomsHeld, mix[0]!.roomsHeld);
  goals.push({ name: 'mixer rooms (20 Opus talkers) at tick lateness p99 ≤ 2 ms, 2 workers ÷ 1', value: `${mix[1]!.roomsHeld} ÷ ${mix[0]!.roomsHeld} = ${fixed(r)}×`, goal: '≥ 1.8×', met: Number.isFinite(r) ? r >= 1.8 : undefined });
}
if (relay.length === 2) {
  const r = ratio(relay[1]!.bestNoLoss, relay[0]!.bestNoLoss);
  goals.push({ name: 'relayed video deliveries/s kept up with no loss, 2 workers ÷ 1', value: `${int(relay[1]!.bestNoLoss)} ÷ ${int(relay[0]!.bestNoLoss)} = ${fixed(r)}×`, goal: '≥ 1.7×', met: Number.isFinite(r) ? r >= 1.7 : undefined });
}
const joinSummaries = joins.map((series) => ({ path: series.path, ...summarize(series.samples) }));
const byPath = (prefix: string) => joinSummaries.find((s) => s.path.startsWith(prefix));
const added: Array<{ what: string; direct: typeof joinSummaries[number] | undefined; via: typeof joinSummaries[number] | undefined }> = [
  { what: 'hand-over between workers', direct: byPath('--workers 2, accepted'), via: byPath('--workers 2, handed') },
  { what: 'relay over the node link', direct: byPath('two nodes, direct'), via: byPath('two nodes, relayed') },
];
for (const { what, direct, via } of added) {
  if (!direct || !via) continue;
  const d = via.p99 - direct.p99;
  goals.push({ name: `join p99 added by the ${what} (over a direct join to the host)`, value: `${fixed(via.p99)} − ${fixed(direct.p99)} = ${fixed(d)} ms (p50 +${fixed(via.p50 - direct.p50)} ms)`, goal: '≤ 2 ms', met: Number.isFinite(d) ? d <= 2 : undefined });
}

if (opts.json) {
  console.log(JSON.stringify({ machine: machine(), otherLoadCoresBefore: otherBefore, options: { ...opts, only: [...opts.only] }, pinning, mix, relay, joins: joinSummaries, goals }, null, 2));
} else {
  const { cpus, model, node } = machine();
  const lines: string[] = [];
  lines.push(`cluster bench: ${model}, ${cpus} CPUs, Node ${node}; ${new Date(startedAt).toISOString()}, ${Math.round((Date.now() - startedAt) / 1000)} s`);
  lines.push(`other load before the run: ${otherBefore === undefined ? 'unknown' : `${otherBefore.toFixed(2)} cores`}`);
  lines.push('pinning:');
  for (const line of pinning) lines.push(`  ${line}`);
  if (mix.length > 0) {
    lines.push('', `1. mixer rooms: ${opts.talkers} Opus talkers + ${opts.listeners} listeners per room, added one at a time; ${opts.warmupS} s warm-up + ${opts.durationS} s window per step, up to ${opts.tries} windows when one misses;`
      + ' lateness from each worker\'s histogram (p99 interpolated in its bucket; "held" is exact: ≥ 99 % of ticks ≤ 2 ms)');
    const rows: (string | number)[][] = [];
    for (const result of mix) {
      for (const s of result.steps) {
        rows.push([result.workers, s.rooms, s.window, s.placement.join('+'), s.perWorker.map((w) => fixed(w.p99Ms)).join(' / '),
          s.perWorker.map((w) => `${w.lateOver2Ms}/${w.ticks}`).join(' / '), s.perWorker.map((w) => pct(w.cpu)).join(' / '),
          `${int(s.mixesPerSec)}/${int(s.expectedMixesPerSec)}`, pct(s.loadgenCpu), pct(s.otherCpu), s.held ? 'yes' : 'no']);
      }
    }
    lines.push(table(['workers', 'rooms', 'window', 'per worker', 'lateness p99 ms', 'ticks > 2 ms', 'worker CPU', 'mixes/s got/sent', 'loadgen', 'other', 'held'], rows));
    lines.push(`rooms held: ${mix.map((m) => `${m.workers} worker(s) ${m.roomsHeld}`).join(', ')}`);
  }
  if (relay.length > 0) {
    lines.push('', `2. video relay: ${opts.relayRooms} rooms × (1 JPEG publisher + ${opts.subscribers} subscribers), ${int(opts.frameBytes)} B frames; fps raised until a window does not keep up;`
      + ` 1 s warm-up + ${opts.durationS} s window; lost = deliveries of the window's frames missing after up to 5 s; kept up = nothing lost and ≥ 97 % delivered`
      + ' within the window; per worker core = delivered/s ÷ the workers\' CPU');
    const rows: (string | number)[][] = [];
    for (const result of relay) {
      for (const s of result.steps) {
        const perCore = s.deliveredPerSec / s.workerCpu.reduce((a, b) => a + b, 0);
        rows.push([result.workers, result.placement.join('+'), s.fps, int(s.offeredPerSec), int(s.deliveredPerSec), `${s.lost}/${int(s.expected)}`, s.keptUp ? 'yes' : 'no',
          s.serverDropped, fixed(s.latency.p50), fixed(s.latency.p99), s.workerCpu.map(pct).join(' / '), int(perCore), pct(s.loadgenCpu), pct(s.otherCpu)]);
      }
    }
    lines.push(table(['workers', 'rooms', 'fps', 'offered/s', 'delivered/s', 'lost', 'kept up', 'server drops', 'p50 ms', 'p99 ms', 'worker CPU', 'per worker core', 'loadgen', 'other'], rows));
    lines.push(`most deliveries/s kept up: ${relay.map((r) => `${r.workers} worker(s) ${int(r.bestNoLoss)} (at ${r.bestFps ?? '—'} fps)`).join(', ')}`);
  }
  if (joinSummaries.length > 0) {
    lines.push('', `3. join latency, HELLO → WELCOME over framed TCP, into a room with one member (connect not timed); ${opts.joins} joins per configuration after 20 warm-up joins`);
    lines.push(table(['path', 'joins', 'p50 ms', 'p99 ms', 'max ms'],
      joinSummaries.map((s) => [s.path, s.count, fixed(s.p50), fixed(s.p99), fixed(s.max)])));
  }
  lines.push('', 'goals:');
  for (const g of goals) lines.push(`  ${g.met === undefined ? '  ?   ' : g.met ? 'met   ' : 'MISSED'}  ${g.name}: ${g.value} (goal ${g.goal})`);
  console.log(lines.join('\n'));
}
