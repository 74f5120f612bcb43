/**
 * A private Redis for a test: `redis-server` (Debian's package, which .ci/run installs) on 127.0.0.1 and a
 * free port below the ephemeral range, with no persistence and a temporary directory, stopped by its PID.
 * `restart()` stops it and starts it again on the same port with nothing in it, as a real Redis restart
 * without persistence does.
 *
 * @example
 *   const redis = await startRedis();
 *   try {
 *     const directory = createRedisDirectory({ redis: redis.url, self });
 *     await redis.restart(async () => { await checkWhileDown(); });
 *   } finally {
 *     await redis.stop();
 *   }
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's redis-server, else the one on PATH. */
const REDIS_SERVER = existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server';
/** How long redis-server may take to answer PING after it was started. */
const START_TIMEOUT_MS = 10_000;
/** How long redis-server may take to exit after SIGTERM before it gets SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;

/** Options of `startRedis`. */
export interface StartRedisOptions {
  /** Started with `--requirepass`; the URL then carries it (`redis://:password@127.0.0.1:port`). */
  password?: string;
}

/** A running private Redis. */
export interface TestRedis {
  /** `redis://127.0.0.1:<port>`, with `:password@` when started with one. */
  readonly url: string;
  readonly port: number;
  /** The PID of the current redis-server process (a new one after `restart()`). */
  readonly pid: number;
  /**
   * Stops redis-server (SIGTERM, waits for its exit), runs `whileDown` if given, and starts it again on the same
   * port, empty; resolves once it answers PING again.
   */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  /** Stops redis-server by its PID and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** Starts a private redis-server on 127.0.0.1 and a free port; resolves once it answers PING. */
export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'confab-redis-'));
  let child: ChildProcess | undefined;
  let port = 0;
  try {
    // A free port can be taken between the probe and redis-server's bind: try a few.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        child = await launch(port, dir, options.password);
        break;
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let current: ChildProcess = child;
  let stopped: Promise<void> | undefined;
  const auth = options.password !== undefined ? `:${encodeURIComponent(options.password)}@` : '';
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    port,
    get pid() {
      return current.pid!;
    },
    async restart(whileDown) {
      if (stopped) throw new Error('this test Redis is stopped');
      await terminate(current);
      try {
        if (whileDown) await whileDown();
      } finally {
        current = await launch(port, dir, options.password);
      }
    },
    stop() {
      stopped ??= terminate(current).finally(() => rmSync(dir, { recursive: true, force: true }));
      return stopped;
    },
  };
}

/** The lowest port of the kernel's ephemeral range, from which it picks the source ports of connections. */
function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

/**
 * A port that was free on 127.0.0.1 a moment ago, below the ephemeral range. While Redis is down, its clients
 * keep reconnecting; to a port inside that range, one attempt in many thousands gets that very port as its
 * source port and connects to itself (a TCP self-connect), and a Redis client takes its own echoed commands
 * for answers: "connected" to a Redis that is down.
 */
async function freePort(): Promise<number> {
  const low = 10_000;
  const high = Math.max(low + 1000, ephemeralLow());
  for (;;) {
    const port = low + Math.floor(Math.random() * (high - low));
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/** Starts redis-server on `port`; resolves once it answers PING, rejects (and kills it) if it exits or never answers. */
async function launch(port: number, dir: string, password: string | undefined): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  if (password !== undefined) args.push('--requirepass', password);
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  // The test's process may end without stop() (a failed assertion in a hook): never leave redis-server behind.
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  child.once('exit', () => process.removeListener('exit', onExit));
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(error));
    child.once('exit', (code, signal) => reject(new Error(`redis-server on port ${port} exited (${signal ?? code}) before it answered PING:\n${output}`)));
  });
  exited.catch(() => {});
  const deadline = Date.now() + START_TIMEOUT_MS;
  try {
    while (!(await Promise.race([ping(port, password), exited]))) {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${START_TIMEOUT_MS} ms:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } catch (error) {
    await terminate(child);
    throw error;
  }
  return child;
}

/** True when a Redis answers PING on 127.0.0.1:port (after AUTH when it has a password). */
function ping(port: number, password: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('+PONG')) done(true);
      else if (reply.includes('-')) done(false);
    });
    socket.once('connect', () => {
      const auth = password !== undefined ? `AUTH ${JSON.stringify(password)}\r\n` : '';
      socket.write(`${auth}PING\r\n`);
    });
  });
}

/** Sends SIGTERM to the child by its PID and waits for its exit; SIGKILL if it takes too long. */
function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    process.kill(child.pid!, 'SIGTERM');
  });
}
