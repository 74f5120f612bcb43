/**
 * A private PostgreSQL for a test run: `initdb` in a temporary directory, `postgres` on a free port of
 * 127.0.0.1 (and a unix socket in that directory), `fsync=off` for speed, one fresh database per test server.
 * PostgreSQL refuses to run as root: as root, initdb and postgres run as the `postgres` user
 * (`runuser -u postgres --`) and the directory belongs to it. Stopped by PID (SIGTERM, then waited for) and
 * its directory removed, when the test calls `stop()` and in any case when the test process exits.
 *
 * `CONFAB_TEST_STORE=postgres` makes `startTestServer` (core/testing.ts, through `testStoreUrl`) put each
 * test server's store on a fresh database of the run's instance; test/run.mjs runs the store-touching test
 * files a second time that way.
 *
 * @example
 *   const pg = await startPostgres();
 *   const url = await pg.createDatabase(); // postgres://confab@127.0.0.1:<port>/confab_1
 *   …
 *   await pg.stop();
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** Where Debian installs PostgreSQL's server binaries: the newest major version there. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
  const found = majors.map((major) => join(root, major, 'bin')).find((dir) => existsSync(join(dir, 'postgres')));
  return found;
}

/** A running private PostgreSQL. */
export interface PrivatePostgres {
  readonly port: number;
  /** The URL of its `postgres` database, as the superuser `confab`. */
  readonly adminUrl: string;
  /** The server's PID (to stop, or to stop and start again in a failure test). */
  readonly pid: number;
  /** Creates a fresh, empty database and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server (SIGTERM, then waits for it to exit); the data stays, for `start()`. */
  halt(): Promise<void>;
  /** Starts the server again on the same port and data (after `halt()`). */
  start(): Promise<void>;
  /** Stops the server and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

const USER = 'confab';
/** How long PostgreSQL may take to accept connections after it was started. */
const START_TIMEOUT_MS = 30_000;

/** Starts a private PostgreSQL (see the file's comment). Throws when the binaries are missing. */
export async function startPostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql/<major>/bin (apt-get install postgresql)');
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'confab-pg-'));
  const data = join(dir, 'data');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const run = (command: string, args: string[]) => asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] as const : [command, args] as const;
  const [initCommand, initArgs] = run(join(bin, 'initdb'), ['-D', data, '-U', USER, '--auth=trust', '-E', 'UTF8', '--no-sync', '-A', 'trust']);
  execFileSync(initCommand, [...initArgs], { stdio: 'ignore' });
  const port = await freePort();
  let child: ChildProcess | undefined;
  let databases = 0;
  let stopped = false;

  const launch = async () => {
    const [command, args] = run(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir,
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200']);
    child = spawn(command, [...args], { stdio: 'ignore' });
    // The test process may end while it runs: its 'exit' handler stops it.
    child.unref();
    const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const client = new pg.Client({ host: '127.0.0.1', port, user: USER, database: 'postgres' });
      try {
        await client.connect();
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
        const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 50))]);
        if (gone) throw new Error(`PostgreSQL exited while starting (data in ${data})`);
        if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections within ${START_TIMEOUT_MS} ms`);
      }
    }
  };
  /** The postmaster's own PID (under runuser, `child` is runuser's). */
  const postmasterPid = (): number | undefined => {
    try {
      const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  const halt = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.ref();
    // SIGINT is PostgreSQL's fast shutdown: it does not wait for clients to disconnect.
    const pid = postmasterPid();
    if (pid !== undefined) process.kill(pid, 'SIGINT');
    else running.kill('SIGINT');
    await exited;
  };
  /** Stops the server and waits for it synchronously (for the process's exit), then removes the directory. */
  const stopSync = () => {
    const pid = child && child.exitCode === null ? postmasterPid() : undefined;
    child = undefined;
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGINT');
        const deadline = Date.now() + 10_000;
        const pause = new Int32Array(new SharedArrayBuffer(4));
        for (;;) {
          process.kill(pid, 0);
          if (Date.now() > deadline) {
            process.kill(pid, 'SIGKILL');
            break;
          }
          Atomics.wait(pause, 0, 0, 20);
        }
      } catch {
        // ESRCH: it has exited.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const onExit = () => stopSync();
  // Killed by a signal (test/run.mjs ends a hung file with SIGTERM), Node runs no 'exit' handler: stop the
  // server and remove its directory, then die of the same signal as before.
  const onSignal = (signal: NodeJS.Signals) => {
    stopSync();
    process.off('exit', onExit);
    process.kill(process.pid, signal);
  };
  process.once('exit', onExit);
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  await launch();

  return {
    port,
    adminUrl: `postgres://${USER}@127.0.0.1:${port}/postgres`,
    get pid() {
      return child?.pid ?? -1;
    },
    async createDatabase(name = `confab_${process.pid}_${++databases}`) {
      const client = new pg.Client({ host: '127.0.0.1', port, user: USER, database: 'postgres' });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return `postgres://${USER}@127.0.0.1:${port}/${name}`;
    },
    halt,
    start: launch,
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt();
      process.off('exit', onExit);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let shared: Promise<PrivatePostgres> | undefined;
/** The database of each data directory, so that a server restarted on the same directory finds its store again. */
const byDataDir = new Map<string, Promise<string>>();

/**
 * The store URL a test server should use: undefined (the SQLite default) unless `CONFAB_TEST_STORE=postgres`,
 * then the database of `dataDir` (a fresh one the first time) on this process's private PostgreSQL, started
 * on first use and stopped when the process exits. The URL is also put in `CONFAB_STORE_URL`, so that a
 * child process the test starts on that data directory (`confab token revoke`) writes the same store.
 */
export async function testStoreUrl(dataDir?: string): Promise<string | undefined> {
  if (process.env.CONFAB_TEST_STORE !== 'postgres') return undefined;
  shared ??= startPostgres();
  const instance = await shared;
  let url = dataDir === undefined ? undefined : byDataDir.get(dataDir);
  if (!url) {
    url = instance.createDatabase();
    if (dataDir !== undefined) byDataDir.set(dataDir, url);
  }
  process.env.CONFAB_STORE_URL = await url;
  return url;
}

/** A TCP port of 127.0.0.1 that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
