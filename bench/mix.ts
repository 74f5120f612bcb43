/**
 * Audio mixer bench: the real RoomMixer (plugins/audio-mix/room-mixer.ts) driven in-process by the real
 * TickScheduler every 20 ms, fed with synthetic frames (tones, pre-encoded for Opus so the senders' encoding
 * is not counted), for 10–200 speakers, PCM and Opus. Per scenario it reports the time of one tick (feeding
 * the jitter buffers, decoding, mixing, encoding, framing every listener's payload), that as a share of one
 * core (tick time ÷ 20 ms), the process's CPU over the scenario, the tick lateness (p99 after the first 10 ticks, max
 * over all), and side by side the mix arithmetic alone: ours (total
 * minus own, O(N)) against the naive mix-minus (each listener sums the others, O(N²)).
 *
 *   node --import tsx bench/mix.ts [--duration 5] [--json]
 */
import { MediaCodec } from '../core/media.js';
import { MixBus } from '../plugins/audio-mix/mixer.js';
import { loadOpus, type OpusCodec } from '../plugins/audio-mix/opus-codec.js';
import { pcmToBytes } from '../plugins/audio-mix/pcm.js';
import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE } from '../plugins/audio-mix/protocol.js';
import { RoomMixer } from '../plugins/audio-mix/room-mixer.js';
import { TickScheduler } from '../plugins/audio-mix/tick-scheduler.js';
import { backgroundLoad, fixed, machine, ownCpuSeconds, parseArgs, summarize, table } from './harness.js';

interface Scenario {
  codec: 'pcm' | 'opus';
  /** Speakers sending a tone every tick; each also listens (and gets its own mix-minus). */
  talkers: number;
  /** Listeners who do not speak (they share one encode). */
  listeners: number;
}

interface Result extends Scenario {
  tickMeanMs: number;
  tickP99Ms: number;
  /** Tick time ÷ 20 ms: the share of one core the mixer needs. */
  core: number;
  /** CPU time of this process during the scenario ÷ its wall time (includes GC; robust to a busy machine). */
  cpu: number;
  latenessP99Ms: number;
  latenessMaxMs: number;
  oursMixMs: number;
  naiveMixMs: number;
}

/** The first ticks of a scenario (JIT, first encoders) are left out of tick time and lateness p99 (not max). */
const WARM_UP_TICKS = 10;
/** Distinct synthetic streams; speaker i sends stream i mod STREAMS. */
const STREAMS = 8;
/** Frames per stream, looped. */
const LOOP_FRAMES = 50;

const args = parseArgs(process.argv.slice(2));
const durationS = Number(args.get('duration') ?? 5);
const json = args.has('json');

const opus = await loadOpus();
if (!opus) throw new Error('no Opus codec loaded; the bench needs @evan/opus or opusscript');
const streams = { pcm: makeStreams('pcm', opus), opus: makeStreams('opus', opus) };

const scenarios: Scenario[] = [
  ...[10, 50, 100, 200].map((talkers) => ({ codec: 'pcm' as const, talkers, listeners: 0 })),
  ...[10, 50, 100, 200].map((talkers) => ({ codec: 'opus' as const, talkers, listeners: 0 })),
  { codec: 'pcm', talkers: 20, listeners: 100 },
  { codec: 'opus', talkers: 20, listeners: 100 },
];

const busyBefore = await backgroundLoad(1000);
const results: Result[] = [];
for (const scenario of scenarios) results.push(await run(scenario));

/** A scenario whose mean tick fits in the 20 ms period; the others cannot be on time on one core. */
const fits = (r: Result) => r.core < 1;
const fitting = results.filter(fits);
const goals = [
  goal('200 PCM speakers in < 20 % of a core', find('pcm', 200, 0).core < 0.2, `${percent(find('pcm', 200, 0).core)}`),
  goal('Opus, 20 talkers + 100 listeners in ≤ 60 % of a core', find('opus', 20, 100).core <= 0.6, `${percent(find('opus', 20, 100).core)}`),
  goal('tick lateness p99 ≤ 2 ms (every scenario whose tick fits in 20 ms on one core)', fitting.every((r) => r.latenessP99Ms <= 2),
    `worst ${fixed(Math.max(...fitting.map((r) => r.latenessP99Ms)))} ms; over budget, late by construction: `
    + `${results.filter((r) => !fits(r)).map((r) => `${r.codec} ${r.talkers}`).join(', ') || 'none'}`),
];

if (json) {
  console.log(JSON.stringify({ machine: machine(), otherLoadCores: busyBefore, opus: opus.name, durationS, results, goals }, null, 2));
} else {
  const { cpus, model, node } = machine();
  console.log(`audio mixer bench: ${model}, ${cpus} CPUs, Node ${node}, Opus from ${opus.name}, ${durationS} s per scenario`);
  console.log(`other load on the machine before the run: ${busyBefore === undefined ? 'unknown' : `${busyBefore.toFixed(2)} cores`}\n`);
  console.log(table(
    ['codec', 'talkers', 'listeners', 'tick mean ms', 'tick p99 ms', 'core', 'process CPU', 'lateness p99 ms', 'lateness max ms', 'mix O(N) ms', 'baseline O(N²) ms'],
    results.map((r) => [r.codec, r.talkers, r.listeners, fixed(r.tickMeanMs, 3), fixed(r.tickP99Ms, 3), percent(r.core), percent(r.cpu),
      fixed(r.latenessP99Ms), fixed(r.latenessMaxMs), fixed(r.oursMixMs, 3), fixed(r.naiveMixMs, 3)]),
  ));
  console.log('\ngoals:');
  for (const line of goals) console.log(`  ${line.met ? 'met ' : 'MISSED'}  ${line.name}: ${line.value}`);
}

/** Runs one scenario for `durationS` seconds of real 20 ms ticks. */
async function run(scenario: Scenario): Promise<Result> {
  const frames = streams[scenario.codec];
  let delivered = 0;
  const mixer = new RoomMixer({ opus, deliver: (_id, payload) => void (delivered += payload.length) });
  const ids = Array.from({ length: scenario.talkers }, (_, i) => `talker-${i}`);
  for (const id of ids) mixer.listen(id, scenario.codec);
  for (let i = 0; i < scenario.listeners; i++) mixer.listen(`listener-${i}`, scenario.codec);

  const tickMs: number[] = [];
  const lateMs: number[] = [];
  let tick = 0;
  const ticks = Math.round((durationS * 1000) / FRAME_MS);
  const scheduler = new TickScheduler(FRAME_MS, (late) => {
    lateMs.push(late);
    const started = performance.now();
    const arrival = performance.now();
    for (let i = 0; i < ids.length; i++) {
      const data = frames[i % STREAMS]![tick % LOOP_FRAMES]!;
      mixer.receive(ids[i]!, { codec: scenario.codec === 'opus' ? MediaCodec.OPUS : MediaCodec.PCM_S16LE, keyframe: true, layer: 0, switchUp: true, baseIndex: 0, seq: tick, captureMs: Date.now(), sender: '', data }, arrival);
    }
    mixer.tick();
    tickMs.push(performance.now() - started);
    if (++tick >= ticks) scheduler.stop();
  });
  const cpuBefore = ownCpuSeconds();
  const wallBefore = performance.now();
  scheduler.start();
  while (scheduler.running) await new Promise((resolve) => setTimeout(resolve, 50));
  const cpu = (ownCpuSeconds() - cpuBefore) / ((performance.now() - wallBefore) / 1000);
  if (delivered === 0) throw new Error('the mixer delivered nothing');

  const steady = summarize(tickMs.slice(WARM_UP_TICKS));
  const { ours, naive } = arithmetic(scenario.talkers);
  return {
    ...scenario,
    tickMeanMs: steady.mean,
    tickP99Ms: steady.p99,
    core: steady.mean / FRAME_MS,
    cpu,
    latenessP99Ms: summarize(lateMs.slice(WARM_UP_TICKS)).p99,
    latenessMaxMs: Math.max(...lateMs),
    oursMixMs: ours,
    naiveMixMs: naive,
  };
}

/** The mix arithmetic alone for `n` talkers who all listen: ours (total − own) and the naive O(N²) way. */
function arithmetic(n: number): { ours: number; naive: number } {
  const inputs = Array.from({ length: n }, (_, i) => tone(200 + 37 * i, 0, 1000));
  const outs = Array.from({ length: n }, () => new Int16Array(FRAME_SAMPLES));
  const bus = new MixBus();
  // Enough rounds for about 100 ms of the naive way, at least 3.
  const rounds = Math.max(3, Math.min(50, Math.round(20_000 / (n * n))));
  const oursStart = performance.now();
  for (let round = 0; round < rounds; round++) {
    bus.clear();
    for (const input of inputs) bus.add(input);
    for (let i = 0; i < n; i++) bus.mixMinus(inputs[i], outs[i]!);
  }
  const ours = (performance.now() - oursStart) / rounds;
  const sum = new Int32Array(FRAME_SAMPLES);
  const naiveStart = performance.now();
  for (let round = 0; round < rounds; round++) {
    for (let listener = 0; listener < n; listener++) {
      sum.fill(0);
      for (let other = 0; other < n; other++) {
        if (other === listener) continue;
        const input = inputs[other]!;
        for (let s = 0; s < FRAME_SAMPLES; s++) sum[s] = sum[s]! + input[s]!;
      }
      const out = outs[listener]!;
      for (let s = 0; s < FRAME_SAMPLES; s++) out[s] = Math.max(-32768, Math.min(32767, sum[s]!));
    }
  }
  const naive = (performance.now() - naiveStart) / rounds;
  return { ours, naive };
}

/** STREAMS looped tones of LOOP_FRAMES frames each, as PCM bytes or Opus packets. */
function makeStreams(codec: 'pcm' | 'opus', codecs: OpusCodec): Uint8Array[][] {
  return Array.from({ length: STREAMS }, (_, stream) => {
    const encoder = codecs.createEncoder();
    return Array.from({ length: LOOP_FRAMES }, (_, index) => {
      const pcm = tone(220 + 110 * stream, index, 600);
      return codec === 'opus' ? encoder.encode(pcm) : pcmToBytes(pcm).slice();
    });
  });
}

function tone(hz: number, index: number, amplitude: number): Int16Array {
  const frame = new Int16Array(FRAME_SAMPLES);
  for (let i = 0; i < FRAME_SAMPLES; i++) frame[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * (index * FRAME_SAMPLES + i)) / SAMPLE_RATE));
  return frame;
}

function find(codec: 'pcm' | 'opus', talkers: number, listeners: number): Result {
  return results.find((r) => r.codec === codec && r.talkers === talkers && r.listeners === listeners)!;
}

function goal(name: string, met: boolean, value: string) {
  return { name, met, value };
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
