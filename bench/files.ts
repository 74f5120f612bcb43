/**
 * File-transfer bench: one file over loopback, in the same run, four ways — a plain Node `net` pipe (the
 * floor), the Confab files plugin uploading and downloading it (binary chunks, hashed, on disk, verified),
 * and the seeds' approach (4 KiB base64 chunks inside JSON frames) over the same Confab transport. Server and
 * client run in separate processes (server pinned to CPU 0, client to CPU 1 when `taskset` exists); it prints
 * MB/s, the ratios, and the peak RSS of each process, then checks the goals.
 *
 *   node --import tsx bench/files.ts [--mb 1024] [--json]      (or CONFAB_BENCH_FILE_MB=256)
 *
 * The default is 1 GiB; use `--mb 128` for a quick run on a shared machine.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canPin, fixed, machine, parseArgs, ROOT, spawnServer, stopAllServers, table } from './harness.js';

const args = parseArgs(process.argv.slice(2));
const megabytes = Number(args.get('mb') ?? process.env.CONFAB_BENCH_FILE_MB ?? 1024);
const bytes = Math.round(megabytes * 2 ** 20);
const asJson = args.has('json');
const work = mkdtempSync(join(tmpdir(), 'confab-bench-files-work-'));

/** The goals of the issue. */
const GOALS = { mbPerSecond: 400, ofPipe: 0.5, overSeeds: 3.5, peakRssMb: 150 };

interface ClientResult {
  seconds: number;
  bytes: number;
  maxRssMb: number;
  id?: string;
}

interface Row {
  name: string;
  mbPerSecond: number;
  serverRssMb: number;
  clientRssMb: number;
}

/** Writes `size` random bytes to a file, 8 MiB at a time. */
function makeFile(path: string, size: number): void {
  const fd = openSync(path, 'w');
  const block = randomBytes(8 * 2 ** 20);
  for (let done = 0; done < size; done += block.length) writeSync(fd, block, 0, Math.min(block.length, size - done));
  closeSync(fd);
}

/**
 * Runs one bench client process and parses its JSON line. Each transfer starts after `sync`, with no dirty
 * pages of the earlier ones waiting for the disk: with 1 GiB files, the later transfers would otherwise
 * compete with the kernel writing back the earlier ones (several GiB in a run).
 */
function runClient(clientArgs: string[]): Promise<ClientResult> {
  execFileSync('sync');
  const node = [process.execPath, '--import', 'tsx', join(ROOT, 'bench/files-client.ts'), ...clientArgs];
  const [command, ...rest] = canPin(1) ? ['taskset', '-c', '1', ...node] : node;
  return new Promise((resolve, reject) => {
    execFile(command!, rest, { cwd: ROOT, timeout: 600_000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`files-client ${clientArgs.join(' ')} failed: ${stderr || error.message}`));
      resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as ClientResult);
    });
  });
}

/** The peak resident set size of a running process, from /proc (MB). */
function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

const rate = (result: ClientResult) => result.bytes / 2 ** 20 / result.seconds;

async function main(): Promise<void> {
  const source = join(work, 'source.bin');
  makeFile(source, bytes);
  const rows: Row[] = [];

  const pipeServer = await spawnServer({ label: 'pipe', script: 'bench/files-server.ts', args: ['--mode', 'pipe'], cpu: 0 });
  const pipe = await runClient(['--mode', 'pipe', '--port', String(pipeServer.port), '--file', source]);
  rows.push({ name: 'plain net pipe', mbPerSecond: rate(pipe), serverRssMb: peakRssMb(pipeServer.pid), clientRssMb: pipe.maxRssMb });
  await pipeServer.stop();

  const confab = await spawnServer({ label: 'confab', script: 'bench/files-server.ts', args: ['--mode', 'confab'], cpu: 0 });
  const upload = await runClient(['--mode', 'upload', '--port', String(confab.port), '--file', source]);
  rows.push({ name: 'confab files upload', mbPerSecond: rate(upload), serverRssMb: peakRssMb(confab.pid), clientRssMb: upload.maxRssMb });
  const out = join(work, 'download.bin');
  const download = await runClient(['--mode', 'download', '--port', String(confab.port), '--id', upload.id!, '--out', out]);
  rows.push({ name: 'confab files download', mbPerSecond: rate(download), serverRssMb: peakRssMb(confab.pid), clientRssMb: download.maxRssMb });
  rmSync(out, { force: true });
  await confab.stop();

  const seedServer = await spawnServer({ label: 'seed', script: 'bench/files-server.ts', args: ['--mode', 'seed'], cpu: 0 });
  const seed = await runClient(['--mode', 'seed', '--port', String(seedServer.port), '--file', source]);
  rows.push({ name: 'seeds: base64 in JSON', mbPerSecond: rate(seed), serverRssMb: peakRssMb(seedServer.pid), clientRssMb: seed.maxRssMb });
  await seedServer.stop();

  const pipeRate = rows[0].mbPerSecond;
  const seedRate = rows[3].mbPerSecond;
  const slowest = Math.min(rows[1].mbPerSecond, rows[2].mbPerSecond);
  const peak = Math.max(...rows.slice(1, 3).flatMap((row) => [row.serverRssMb, row.clientRssMb]));
  const goals = [
    { goal: `confab ≥ ${GOALS.mbPerSecond} MB/s (slower direction)`, value: `${fixed(slowest, 0)} MB/s`, met: slowest >= GOALS.mbPerSecond },
    { goal: `confab ≥ ${GOALS.ofPipe} × plain pipe`, value: `${fixed(slowest / pipeRate)} ×`, met: slowest / pipeRate >= GOALS.ofPipe },
    { goal: `confab ≥ ${GOALS.overSeeds} × seeds' approach`, value: `${fixed(slowest / seedRate)} ×`, met: slowest / seedRate >= GOALS.overSeeds },
    { goal: `peak RSS < ${GOALS.peakRssMb} MB (confab server and clients)`, value: `${fixed(peak, 0)} MB`, met: peak < GOALS.peakRssMb },
  ];
  if (asJson) {
    process.stdout.write(`${JSON.stringify({ machine: machine(), megabytes, rows, goals }, null, 2)}\n`);
    return;
  }
  const { cpus, model, node } = machine();
  process.stdout.write(`File transfer over loopback: ${megabytes} MiB, ${cpus} CPUs (${model}), Node ${node}; `
    + `${canPin(1) ? 'server on CPU 0, client on CPU 1' : 'not pinned'}\n\n`);
  process.stdout.write(`${table(['transfer', 'MB/s', '× pipe', '× seeds', 'server peak RSS (MB)', 'client peak RSS (MB)'], rows.map((row) => [
    row.name, fixed(row.mbPerSecond, 0), fixed(row.mbPerSecond / pipeRate), fixed(row.mbPerSecond / seedRate), fixed(row.serverRssMb, 0), fixed(row.clientRssMb, 0),
  ]))}\n\n`);
  process.stdout.write(`${table(['goal', 'measured', 'met'], goals.map((g) => [g.goal, g.value, g.met ? 'yes' : 'NO']))}\n`);
  process.stdout.write('(MB/s are MiB per second; RSS in MiB, the whole life of the process)\n');
}

try {
  await main();
} finally {
  await stopAllServers();
  rmSync(work, { recursive: true, force: true });
}
