/**
 * What the benchmarks share: a server under test in a process of its own (pinned to a CPU when `taskset`
 * exists) that is always stopped by its PID — at the end, on an error, on Ctrl-C, and when the bench
 * process dies (the child watches its stdin pipe); the CPU time of a process from /proc; percentiles; and
 * plain text tables.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root (the parent of bench/). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A server under test, running in its own process. */
export interface ServerProcess {
  /** What it is (`confab`, `baseline`), for messages. */
  readonly label: string;
  readonly pid: number;
  readonly port: number;
  /** The CPU it is pinned to, if it is. */
  readonly cpu: number | undefined;
  /** Sends SIGTERM and waits for the exit (SIGKILL after `graceMs`). Idempotent. */
  stop(graceMs?: number): Promise<void>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<number | null>;
}

/** How to start a server under test. */
export interface SpawnOptions {
  /** What it is, for messages. */
  label: string;
  /** The script, relative to the repository root, run with `node --import tsx` (or plain node for .mjs/.js). */
  script: string;
  /** Arguments after the script. */
  args?: string[];
  /** Node flags before the script (`--cpu-prof`, …). */
  nodeArgs?: string[];
  /** Pin the process to this CPU with `taskset -c`, when taskset exists and the CPU does. */
  cpu?: number;
  /** How long to wait for the `{"port":…}` line. Default 30 s. */
  startTimeoutMs?: number;
}

const live = new Set<ChildProcess>();
let cleanupInstalled = false;

/**
 * Starts a server script that prints one JSON line `{"port":…}` on stdout when it listens, and resolves once
 * it has. The child gets `--exit-with-parent` and a stdin pipe, so it also exits if this process dies.
 */
export async function spawnServer(options: SpawnOptions): Promise<ServerProcess> {
  installCleanup();
  const script = join(ROOT, options.script);
  const loader = /\.m?js$/.test(script) ? [] : ['--import', 'tsx'];
  const nodeCommand = [process.execPath, ...(options.nodeArgs ?? []), ...loader, script, ...(options.args ?? []), '--exit-with-parent'];
  const cpu = options.cpu !== undefined && canPin(options.cpu) ? options.cpu : undefined;
  const [command, ...args] = cpu === undefined ? nodeCommand : ['taskset', '-c', String(cpu), ...nodeCommand];
  const child = spawn(command!, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  live.add(child);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    });
    child.once('error', () => {
      live.delete(child);
      resolve(null);
    });
  });
  const lines = createInterface({ input: child.stdout! });
  let timer: NodeJS.Timeout | undefined;
  try {
    const info = await new Promise<{ port: number; dataDir?: string }>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${options.label}: no {"port"} line within ${options.startTimeoutMs ?? 30_000} ms`)),
        options.startTimeoutMs ?? 30_000);
      lines.on('line', (line) => {
        try {
          const value = JSON.parse(line) as { port?: unknown; dataDir?: unknown };
          if (typeof value.port === 'number') {
            resolve({ port: value.port, dataDir: typeof value.dataDir === 'string' ? value.dataDir : undefined });
          }
        } catch {
          process.stderr.write(`[${options.label}] ${line}\n`);
        }
      });
      void exited.then((code) => reject(new Error(`${options.label} exited (code ${code}) before it listened`)));
    });
    // Later stdout lines are passed through, so nothing the server prints is lost.
    lines.removeAllListeners('line');
    lines.on('line', (line) => process.stderr.write(`[${options.label}] ${line}\n`));
    // A server killed before it could clean up leaves its temporary data directory: remove it for it.
    const { dataDir } = info;
    if (dataDir && dirname(dataDir) === tmpdir() && basename(dataDir).startsWith('confab-bench-')) {
      void exited.then(() => rmSync(dataDir, { recursive: true, force: true }));
    }
    let stopping: Promise<void> | undefined;
    return {
      label: options.label,
      pid: child.pid!,
      port: info.port,
      cpu,
      exited,
      stop(graceMs = 5000) {
        stopping ??= stopChild(child, exited, graceMs);
        return stopping;
      },
    };
  } catch (error) {
    await stopChild(child, exited, 2000);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  signal(child.pid, 'SIGTERM');
  const timer = setTimeout(() => signal(child.pid!, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** Stops every server this process started, by PID. */
export async function stopAllServers(): Promise<void> {
  await Promise.allSettled([...live].map((child) => stopChild(child, new Promise((resolve) => child.once('exit', resolve)), 3000)));
}

/** On Ctrl-C or SIGTERM: stop the servers, then exit; on any exit: SIGTERM to whatever is left. */
function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.once('exit', () => {
    for (const child of live) if (child.pid !== undefined) signal(child.pid, 'SIGTERM');
  });
  for (const name of ['SIGINT', 'SIGTERM'] as const) {
    process.once(name, () => {
      process.stderr.write(`\n${name}: stopping the servers…\n`);
      void stopAllServers().finally(() => process.exit(130));
    });
  }
}

let tasksetFound: boolean | undefined;

/** True when `taskset` runs here. */
export function hasTaskset(): boolean {
  if (tasksetFound === undefined) {
    try {
      execFileSync('taskset', ['-V'], { stdio: 'ignore' });
      tasksetFound = true;
    } catch {
      tasksetFound = false;
    }
  }
  return tasksetFound;
}

/** True when processes can be pinned to `cpu`: taskset exists and the machine has more than one CPU. */
export function canPin(cpu: number): boolean {
  return process.platform === 'linux' && hasTaskset() && cpus().length > 1 && cpu < cpus().length;
}

/** Pins this process (all its threads) to `cpu`. Returns a sentence saying what was done. */
export function pinSelf(cpu: number): string {
  if (!canPin(cpu)) return `load generator not pinned (${hasTaskset() ? `${cpus().length} CPU` : 'no taskset'})`;
  try {
    execFileSync('taskset', ['-a', '-cp', String(cpu), String(process.pid)], { stdio: 'ignore' });
    return `load generator pinned to CPU ${cpu}`;
  } catch (error) {
    return `load generator not pinned (taskset failed: ${String(error)})`;
  }
}

let clockTicks: number | undefined;

/**
 * CPU seconds (user + system, all threads) a process has used, from /proc/<pid>/stat; undefined where
 * /proc is missing. Resolution is one clock tick (10 ms).
 */
export function processCpuSeconds(pid: number): number | undefined {
  const path = `/proc/${pid}/stat`;
  if (!existsSync(path)) return undefined;
  clockTicks ??= readClockTicks();
  try {
    const stat = readFileSync(path, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3 (state): utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds the whole machine has been busy (every CPU, every process: user, nice, system, irq, softirq,
 * steal) from /proc/stat; undefined where /proc is missing. Used to show how much *other* work shared the
 * CPUs during a measurement.
 */
export function machineBusySeconds(): number | undefined {
  clockTicks ??= readClockTicks();
  try {
    const first = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const [user, nice, system, , , irq, softirq, steal] = first.trim().split(/\s+/).slice(1).map(Number);
    return (user! + nice! + system! + irq! + softirq! + steal!) / clockTicks;
  } catch {
    return undefined;
  }
}

function readClockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** CPU seconds (user + system) this process has used. */
export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Percentiles of a sample (sorted in place). */
export interface Summary {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Sorts `values` in place and returns p50, p99, max and mean (NaN for an empty sample). */
export function summarize(values: Float64Array | number[]): Summary {
  const sorted = values instanceof Float64Array ? values.sort() : Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return { count: 0, p50: NaN, p99: NaN, max: NaN, mean: NaN };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  const at = (q: number) => sorted[Math.min(n - 1, Math.ceil(q * n) - 1)]!;
  return { count: n, p50: at(0.5), p99: at(0.99), max: sorted[n - 1]!, mean: sum / n };
}

/** Renders rows as a plain text table; numbers are right-aligned. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  const right = header.map((_, column) => rows.some((row) => typeof row[column] === 'number' || /^[\d.,×%—-]+[k%×]?$/.test(String(row[column]))));
  return cells
    .map((row) => row.map((cell, column) => (right[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ').trimEnd())
    .join('\n');
}

/** `12345.6` → `12,346`. */
export function int(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '—';
}

/** A number with `digits` decimals, or an em dash. */
export function fixed(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '—';
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads `--name value` / `--name=value` / `--flag` from argv. */
export function parseArgs(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    if (eq > 0) out.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) out.set(arg.slice(2), argv[++i]!);
    else out.set(arg.slice(2), 'true');
  }
  return out;
}

/** The machine, for the report header. */
export function machine(): { cpus: number; model: string; node: string } {
  const list = cpus();
  return { cpus: list.length, model: list[0]?.model.trim() ?? 'unknown', node: process.version };
}

/**
 * How busy the machine is without us: CPU cores used by everything during `ms` (this process is idle
 * meanwhile). Returns undefined where /proc is missing.
 */
export async function backgroundLoad(ms = 1000): Promise<number | undefined> {
  const before = machineBusySeconds();
  const own = ownCpuSeconds();
  const start = performance.now();
  await sleep(ms);
  const after = machineBusySeconds();
  if (before === undefined || after === undefined) return undefined;
  return Math.max(0, (after - before - (ownCpuSeconds() - own)) / ((performance.now() - start) / 1000));
}
