/**
 * The chat fan-out bench's machinery: a `Rig` is one server under test with its room of clients (one
 * sender, the rest receivers); it runs a phase (open loop at a rate, or the closed loop) and returns what
 * it measured as sums (`PhaseSample`), which `combine` pools over rounds into a `PhaseResult`.
 */
import { openClient, type BenchClient, type ServerKind } from './fanout-clients.js';
import type { FanoutOptions, PhaseResult } from './chat-fanout.js';
import { machineBusySeconds, ownCpuSeconds, processCpuSeconds, sleep, summarize, type ServerProcess } from './harness.js';

/** Counts deliveries and keeps latencies for the current phase. */
class Recorder {
  windowStart = Infinity;
  windowEnd = Infinity;
  seqFrom = Infinity;
  seqTo = Infinity;
  /** Messages numbered below this were sent in an earlier phase: their late deliveries do not count here. */
  seqPhase = 0;
  latencies = new Float64Array(0);
  count = 0;
  /** Deliveries of this phase's messages whose arrival fell inside the window. */
  inWindow = 0;
  /** Deliveries of messages sent inside the window, whenever they arrived. */
  ofWindow = 0;
  /** Every delivery since the start. */
  total = 0;
  messageBytes = 0;
  /** Called after each delivery in the closed-loop phase. */
  afterDelivery: (() => void) | undefined;

  reset(capacity: number, seqPhase: number): void {
    this.seqPhase = seqPhase;
    this.windowStart = this.windowEnd = this.seqFrom = this.seqTo = Infinity;
    if (this.latencies.length < capacity) this.latencies = new Float64Array(capacity);
    this.count = this.inWindow = this.ofWindow = 0;
  }

  readonly chat = (text: string, bytes: number): void => {
    const now = performance.now();
    const space = text.indexOf(' ');
    const sentAt = +text.slice(0, space);
    const seq = parseInt(text.slice(space + 1), 10);
    this.total++;
    this.messageBytes = bytes;
    if (seq >= this.seqFrom && seq < this.seqTo) this.ofWindow++;
    if (now >= this.windowStart && now < this.windowEnd && seq >= this.seqPhase) {
      this.inWindow++;
      if (this.count < this.latencies.length) this.latencies[this.count++] = now - sentAt;
    }
    this.afterDelivery?.();
  };
}

/** CPU readings at the start and end of a measuring window. */
interface Readings {
  server: number | undefined;
  own: number;
  busy: number | undefined;
}

function readings(pid: number): Readings {
  return { busy: machineBusySeconds(), server: processCpuSeconds(pid), own: ownCpuSeconds() };
}

/** What one run of a phase on one server measured: sums, so rounds can be pooled. */
export interface PhaseSample {
  /** Length of the measuring window, s. */
  seconds: number;
  /** Messages sent in the window, and deliveries of any of this phase's messages that arrived in it. */
  sent: number;
  delivered: number;
  latencies: Float64Array;
  expected: number;
  lost: number;
  backlog: number;
  /** CPU seconds in the window: the server, this process, the whole machine. */
  serverCpu: number | undefined;
  ownCpu: number;
  busy: number | undefined;
  messageBytes: number;
  errors: Record<string, number>;
  receiversClosed: number;
}

/** Pools the rounds of one phase on one server into a result. */
export function combine(kind: ServerKind, rate: number | undefined, receivers: number, samples: PhaseSample[]): PhaseResult {
  const sum = (pick: (s: PhaseSample) => number) => samples.reduce((total, sample) => total + pick(sample), 0);
  const seconds = sum((s) => s.seconds);
  const known = samples.every((s) => s.serverCpu !== undefined);
  const serverCpu = known ? sum((s) => s.serverCpu!) / seconds : undefined;
  const ownCpu = sum((s) => s.ownCpu) / seconds;
  const busy = samples.every((s) => s.busy !== undefined) ? sum((s) => s.busy!) / seconds : undefined;
  const deliveredPerSec = sum((s) => s.delivered) / seconds;
  const latencies = new Float64Array(sum((s) => s.latencies.length));
  let offset = 0;
  for (const sample of samples) {
    latencies.set(sample.latencies, offset);
    offset += sample.latencies.length;
  }
  const errors: Record<string, number> = {};
  for (const sample of samples) for (const [code, n] of Object.entries(sample.errors)) errors[code] = (errors[code] ?? 0) + n;
  return {
    server: kind,
    phase: rate === undefined ? 'max' : `${rate}/s`,
    rate,
    receivers,
    rounds: samples.length,
    offeredPerSec: rate === undefined ? undefined : rate * receivers,
    sentPerSec: sum((s) => s.sent) / seconds,
    deliveredPerSec,
    latency: summarize(latencies),
    expected: sum((s) => s.expected),
    lost: sum((s) => s.lost),
    backlog: sum((s) => s.backlog),
    serverCpu,
    perCore: serverCpu ? deliveredPerSec / serverCpu : undefined,
    perCoreRounds: samples.map((s) => (s.serverCpu ? s.delivered / s.serverCpu : NaN)),
    loadgenCpu: ownCpu,
    otherCpu: busy !== undefined && serverCpu !== undefined ? Math.max(0, busy - serverCpu - ownCpu) : undefined,
    messageBytes: samples[samples.length - 1]?.messageBytes ?? 0,
    errors,
    receiversClosed: sum((s) => s.receiversClosed),
  };
}

const FILLER = 'lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore';

/** One server under test with its room of clients: connects them, runs phases on them, closes them. */
export class Rig {
  readonly kind: ServerKind;
  readonly server: ServerProcess;
  readonly opts: FanoutOptions;
  readonly recorder = new Recorder();
  readonly errors = new Map<string, number>();
  receivers: BenchClient[] = [];
  sender: BenchClient | undefined;
  receiversAlive = 0;
  senderClosed = false;
  closing = false;
  /** Deliveries the room owes so far: for each message sent, the receivers alive then. */
  owed = 0;
  seq = 0;
  #pinger: NodeJS.Timeout | undefined;

  constructor(kind: ServerKind, server: ServerProcess, opts: FanoutOptions) {
    this.kind = kind;
    this.server = server;
    this.opts = opts;
  }

  /** Connects the receivers (in batches of 20), then the sender; starts heartbeats where needed. */
  async connect(): Promise<void> {
    const room = 'fanout';
    const error = (code: string) => this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
    for (let i = 0; i < this.opts.members - 1; i += 20) {
      const batch = [];
      for (let j = i; j < Math.min(i + 20, this.opts.members - 1); j++) {
        batch.push(openClient(this.kind, this.server.port, `r${j}`, room, {
          chat: this.recorder.chat,
          error,
          closed: () => {
            if (!this.closing) this.receiversAlive--;
          },
        }));
      }
      this.receivers.push(...(await Promise.all(batch)));
    }
    this.receiversAlive = this.receivers.length;
    this.sender = await openClient(this.kind, this.server.port, 'sender', room, {
      chat: () => undefined,
      error,
      closed: () => {
        this.senderClosed = true;
      },
    });
    const everyone = [...this.receivers, this.sender];
    const heartbeat = this.sender.heartbeatMs;
    if (heartbeat) this.#pinger = setInterval(() => everyone.forEach((client) => client.ping()), heartbeat);
  }

  /** Sends one chat message stamped with the send time and a sequence number. */
  send(): void {
    const head = `${performance.now().toFixed(3)} ${this.seq++} `;
    this.sender!.send(head + FILLER.slice(0, Math.max(1, this.opts.textLength - head.length)));
    this.owed += this.receiversAlive;
  }

  /** Runs one phase: open loop at `rate` msgs/s, or the closed loop when `rate` is undefined. */
  async phase(rate: number | undefined): Promise<PhaseSample> {
    const { recorder, opts } = this;
    const receivers = this.receivers.length;
    recorder.reset(Math.ceil((rate ?? 2000) * ((opts.warmupMs + opts.durationMs) / 1000 + 1) * receivers), this.seq);
    this.errors.clear();
    const aliveBefore = this.receiversAlive;
    let start: Readings | undefined;
    let end: Readings | undefined;
    const openWindow = () => {
      start = readings(this.server.pid);
      recorder.seqFrom = this.seq;
      recorder.windowStart = performance.now();
    };
    const closeWindow = () => {
      recorder.windowEnd = performance.now();
      recorder.seqTo = this.seq;
      end = readings(this.server.pid);
    };
    if (rate !== undefined) {
      await new Promise<void>((resolve) => {
        const began = performance.now();
        let sent = 0;
        let open = false;
        // Open loop: every ms, send what the offered rate says is due by now (catching up after a late tick).
        const timer = setInterval(() => {
          const now = performance.now();
          if (!open && now - began >= opts.warmupMs) {
            open = true;
            openWindow();
          } else if (open && now - began >= opts.warmupMs + opts.durationMs) {
            clearInterval(timer);
            closeWindow();
            resolve();
            return;
          }
          const due = Math.floor(((now - began) * rate) / 1000) - sent;
          for (let i = 0; i < due; i++) this.send();
          sent += Math.max(0, due);
        }, 1);
      });
    } else {
      // Closed loop: keep `inflight` messages' worth of deliveries owed, sending as deliveries arrive.
      const limit = opts.inflight * receivers;
      let stopped = false;
      const pump = () => {
        while (!stopped && this.owed - recorder.total < limit) this.send();
      };
      recorder.afterDelivery = pump;
      pump();
      await sleep(opts.warmupMs);
      openWindow();
      await sleep(opts.durationMs);
      closeWindow();
      stopped = true;
      recorder.afterDelivery = undefined;
    }
    // Drain: wait until every delivery owed has arrived (up to 20 s, or 3 s without progress).
    const drainUntil = performance.now() + 20_000;
    let last = -1;
    let lastChange = performance.now();
    while (recorder.total < this.owed && performance.now() < drainUntil) {
      if (recorder.total !== last) {
        last = recorder.total;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > 3000) {
        break;
      }
      await sleep(20);
    }
    const backlog = Math.max(0, this.owed - recorder.total);
    // Whatever is still owed is written off, so the next phase starts even.
    this.owed = recorder.total;

    const sent = recorder.seqTo - recorder.seqFrom;
    return {
      seconds: (recorder.windowEnd - recorder.windowStart) / 1000,
      sent,
      delivered: recorder.inWindow,
      latencies: recorder.latencies.slice(0, recorder.count),
      expected: sent * receivers,
      lost: Math.max(0, sent * receivers - recorder.ofWindow),
      backlog,
      serverCpu: start!.server !== undefined && end!.server !== undefined ? end!.server - start!.server : undefined,
      ownCpu: end!.own - start!.own,
      busy: start!.busy !== undefined && end!.busy !== undefined ? end!.busy - start!.busy : undefined,
      messageBytes: recorder.messageBytes,
      errors: Object.fromEntries(this.errors),
      receiversClosed: aliveBefore - this.receiversAlive,
    };
  }

  /** Stops heartbeats and closes every client (Confab: BYE first). */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.#pinger);
    for (const client of [...this.receivers, ...(this.sender ? [this.sender] : [])]) client.close();
    await sleep(200);
  }
}
