/**
 * Video relay bench: one publisher sends camera-sized frames (15 fps, ~17 KB: 2 Mbps) into a room of N
 * subscribers, through Confab's video-relay plugin and, in the same run, through the bare forwarder
 * (`baseline-ws-broadcast.ts`, ~30 lines of ws that send every message to every other client). Both servers
 * run pinned to CPU 0; this process (publisher and all subscribers) pins itself to CPU 1.
 *
 *   node --import tsx bench/relay.ts [--subscribers 100,200,400] [--duration 5] [--fps 15] [--frame-bytes 17000]
 *                                    [--codec vp8|jpeg] [--only confab|bare] [--json] [--profile]
 *
 * `--codec vp8` (the default) sends what a VP8 publisher sends (a keyframe, then deltas in three temporal
 * layers), so Confab runs its per-receiver layered forwarding; `--codec jpeg` sends keyframes only.
 *
 * Per N and server: delivered frames/s, loss, publish→receive latency (p50/p99/max; the same process sends
 * and receives, so one clock), server CPU from /proc/<pid>/stat, delivered/s per core, and Confab's ratio to
 * the bare forwarder (per core: "at equal CPU"; and delivered/s).
 *
 * `--profile` bundles the Confab server with a source map, runs it with `node --cpu-prof` (profile in
 * bench/.profiles/) and prints its hot spots, as bench/profile.ts does for the chat bench.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { analyzeProfile, formatProfile } from './cpuprofile.js';
import {
  ROOT,
  fixed,
  int,
  machine,
  machineBusySeconds,
  ownCpuSeconds,
  parseArgs,
  pinSelf,
  processCpuSeconds,
  sleep,
  spawnServer,
  stopAllServers,
  summarize,
  table,
  type ServerProcess,
  type Summary,
} from './harness.js';
import { openRelayClient, type RelayClient, type RelayCodec, type RelayKind } from './relay-clients.js';

/** The bench's options. */
interface RelayOptions {
  subscribers: number[];
  durationMs: number;
  warmupMs: number;
  fps: number;
  frameBytes: number;
  codec: RelayCodec;
  kinds: RelayKind[];
  json: boolean;
  profile: boolean;
}

/** What one N on one server measured. */
interface RelayResult {
  server: RelayKind;
  subscribers: number;
  sentPerSec: number;
  deliveredPerSec: number;
  expected: number;
  lost: number;
  latency: Summary;
  /** Server CPU, 1 = one core; undefined without /proc. */
  serverCpu: number | undefined;
  perCore: number | undefined;
  loadgenCpu: number;
  otherCpu: number | undefined;
}

function readOptions(): RelayOptions {
  const args = parseArgs(process.argv.slice(2));
  const only = args.get('only');
  return {
    subscribers: (args.get('subscribers') ?? '100,200,400').split(',').map(Number),
    durationMs: Number(args.get('duration') ?? 5) * 1000,
    warmupMs: 1000,
    fps: Number(args.get('fps') ?? 15),
    frameBytes: Number(args.get('frame-bytes') ?? 17_000),
    codec: args.get('codec') === 'jpeg' ? 'jpeg' : 'vp8',
    kinds: only === 'confab' || only === 'bare' ? [only] : ['bare', 'confab'],
    json: args.has('json'),
    profile: args.has('profile'),
  };
}

/**
 * Waits until the joins have been handled: N joins announce N² PEER_JOINED frames, which must not be
 * measured as relay work. Settled when the server used under 5 % of a core over 250 ms (at most 15 s).
 */
async function settle(pid: number): Promise<void> {
  const giveUp = performance.now() + 15_000;
  while (performance.now() < giveUp) {
    const before = processCpuSeconds(pid);
    await sleep(250);
    const after = processCpuSeconds(pid);
    if (before === undefined || after === undefined || (after - before) / 0.25 < 0.05) return;
  }
}

/** Connects N subscribers (in batches of 20) and a publisher, runs one measured phase, closes them. */
async function measure(kind: RelayKind, server: ServerProcess, n: number, opts: RelayOptions): Promise<RelayResult> {
  const capacity = Math.ceil(opts.fps * (opts.durationMs / 1000 + 1) * n);
  const latencies = new Float64Array(capacity);
  let count = 0;
  let ofWindow = 0;
  let inWindow = 0;
  let seqFrom = Infinity;
  let seqTo = Infinity;
  let windowStart = Infinity;
  let windowEnd = Infinity;
  const onFrame = (seq: number, sentAt: number) => {
    const now = performance.now();
    if (now >= windowStart && now < windowEnd) inWindow++;
    if (seq >= seqFrom && seq < seqTo) {
      ofWindow++;
      if (count < capacity) latencies[count++] = now - sentAt;
    }
  };

  const subscribers: RelayClient[] = [];
  for (let i = 0; i < n; i += 20) {
    const batch = [];
    for (let j = i; j < Math.min(i + 20, n); j++) batch.push(openRelayClient(kind, opts.codec, server.port, `s${j}`, opts.frameBytes, onFrame));
    subscribers.push(...(await Promise.all(batch)));
  }
  const publisher = await openRelayClient(kind, opts.codec, server.port, 'publisher', opts.frameBytes, () => undefined);
  const everyone = [...subscribers, publisher];
  const pinger = publisher.heartbeatMs ? setInterval(() => everyone.forEach((c) => c.ping()), publisher.heartbeatMs) : undefined;
  await settle(server.pid);

  // Open loop at `fps`: frame k goes at start + k / fps, whatever the deliveries do.
  let seq = 0;
  let sending = true;
  const began = performance.now();
  const tick = () => {
    if (!sending) return;
    publisher.publish(seq++, performance.now());
    setTimeout(tick, Math.max(0, began + (seq * 1000) / opts.fps - performance.now()));
  };
  tick();
  await sleep(opts.warmupMs);
  const before = { server: processCpuSeconds(server.pid), own: ownCpuSeconds(), busy: machineBusySeconds() };
  seqFrom = seq;
  windowStart = performance.now();
  await sleep(opts.durationMs);
  windowEnd = performance.now();
  seqTo = seq;
  const after = { server: processCpuSeconds(server.pid), own: ownCpuSeconds(), busy: machineBusySeconds() };
  sending = false;

  const expected = (seqTo - seqFrom) * n;
  const drainUntil = performance.now() + 5000;
  while (ofWindow < expected && performance.now() < drainUntil) await sleep(20);
  clearInterval(pinger);
  for (const client of everyone) client.close();
  await sleep(500);

  const seconds = (windowEnd - windowStart) / 1000;
  const serverCpu = before.server !== undefined && after.server !== undefined ? (after.server - before.server) / seconds : undefined;
  const loadgenCpu = (after.own - before.own) / seconds;
  const busy = before.busy !== undefined && after.busy !== undefined ? (after.busy - before.busy) / seconds : undefined;
  const deliveredPerSec = inWindow / seconds;
  return {
    server: kind,
    subscribers: n,
    sentPerSec: (seqTo - seqFrom) / seconds,
    deliveredPerSec,
    expected,
    lost: Math.max(0, expected - ofWindow),
    latency: summarize(latencies.subarray(0, count)),
    serverCpu,
    perCore: serverCpu ? deliveredPerSec / serverCpu : undefined,
    loadgenCpu,
    otherCpu: busy !== undefined && serverCpu !== undefined ? Math.max(0, busy - serverCpu - loadgenCpu) : undefined,
  };
}

function percent(value: number | undefined): string {
  return value === undefined ? '—' : `${(value * 100).toFixed(0)}%`;
}

function report(results: RelayResult[], opts: RelayOptions, pinning: string): string {
  const bare = (n: number) => results.find((r) => r.server === 'bare' && r.subscribers === n);
  const rows = results.map((r) => {
    const base = bare(r.subscribers);
    const ratio = r.server === 'confab' && base?.perCore && r.perCore ? `${(r.perCore / base.perCore).toFixed(2)}×` : '';
    return [r.subscribers, r.server, int(r.deliveredPerSec), `${r.lost}/${int(r.expected)}`, fixed(r.latency.p50), fixed(r.latency.p99),
      fixed(r.latency.max), percent(r.serverCpu), r.perCore ? int(r.perCore) : '—', ratio, percent(r.loadgenCpu), percent(r.otherCpu)];
  });
  const lines = [
    `video relay: 1 ${opts.codec.toUpperCase()} publisher at ${opts.fps} fps × ${int(opts.frameBytes)} B (${fixed((opts.fps * opts.frameBytes * 8) / 1e6, 1)} Mbps), `
      + `${opts.durationMs / 1000} s window; ${pinning}`,
    '',
    table(['N', 'server', 'delivered/s', 'lost', 'p50 ms', 'p99 ms', 'max ms', 'server CPU', 'per core/s', 'vs bare', 'loadgen', 'other'], rows),
    '',
    'Goals (Confab):',
  ];
  for (const r of results.filter((x) => x.server === 'confab')) {
    const base = bare(r.subscribers);
    const ok = r.lost === 0 && r.latency.p99 <= 10;
    const ratio = base?.perCore && r.perCore ? r.perCore / base.perCore : NaN;
    lines.push(`  N=${r.subscribers}: ${ok ? 'zero loss and p99 ≤ 10 ms: met' : `not met (lost ${r.lost}, p99 ${fixed(r.latency.p99)} ms)`}; `
      + `per core ${fixed(ratio)}× the bare forwarder (goal ≥ 0.7): ${ratio >= 0.7 ? 'met' : 'not met'}`
      + `; p99 over the bare forwarder's: ${base ? fixed(r.latency.p99 - base.latency.p99) : '—'} ms`);
  }
  return lines.join('\n');
}

/** Bundles the Confab server with a source map (tsx's output has no usable lines); returns the bundle's path. */
async function bundleForProfile(): Promise<string> {
  // The bundle sits in bench/ so that `../package.json` (core/version.ts) still finds the root's.
  const bundle = 'bench/.relay-server.profile.mjs';
  await build({
    entryPoints: [join(ROOT, 'bench/relay-server.ts')],
    outfile: join(ROOT, bundle),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node}`,
    packages: 'external',
    sourcemap: 'external',
    keepNames: true,
    logLevel: 'warning',
  });
  return bundle;
}

const opts = readOptions();
const pinning = pinSelf(1);
const servers = new Map<RelayKind, ServerProcess>();
const profiles = join(ROOT, 'bench/.profiles');
const started = Date.now();
let profiledBundle: string | undefined;
try {
  for (const kind of opts.kinds) {
    if (kind === 'bare') {
      servers.set(kind, await spawnServer({ label: 'bare', script: 'bench/baseline-ws-broadcast.ts', cpu: 0 }));
    } else if (opts.profile) {
      mkdirSync(profiles, { recursive: true });
      profiledBundle = await bundleForProfile();
      const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${profiles}`];
      servers.set(kind, await spawnServer({ label: 'confab', script: profiledBundle, nodeArgs, cpu: 0 }));
    } else {
      servers.set(kind, await spawnServer({ label: 'confab', script: 'bench/relay-server.ts', cpu: 0 }));
    }
  }
  const results: RelayResult[] = [];
  for (const n of opts.subscribers) {
    for (const kind of opts.kinds) {
      results.push(await measure(kind, servers.get(kind)!, n, opts));
      if (!opts.json) process.stderr.write(`  done: N=${n} ${kind}\n`);
    }
  }
  const serverPinning = servers.values().next().value?.cpu === 0 ? 'servers pinned to CPU 0' : 'servers not pinned';
  if (opts.json) console.log(JSON.stringify({ machine: machine(), options: opts, results }, null, 2));
  else console.log(report(results, opts, `${serverPinning}, ${pinning}`));
} finally {
  await stopAllServers();
}
if (profiledBundle) {
  // The server's main thread wrote the biggest of the new profiles.
  const newest = readdirSync(profiles)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => join(profiles, name))
    .filter((path) => statSync(path).mtimeMs >= started)
    .sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (newest) console.log(`\nCPU profile of the Confab server: ${newest}\n\n${formatProfile(analyzeProfile(newest, join(ROOT, `${profiledBundle}.map`), 25))}`);
}
