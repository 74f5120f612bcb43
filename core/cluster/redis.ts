/**
 * Connections to Redis for the cluster's directory and bus (ioredis), made the same way everywhere:
 *
 * - they reconnect forever, with a backoff from 100 ms doubling up to 1 s, so a node finds Redis again by
 *   itself after a restart;
 * - a command fails at once while Redis cannot be reached (no offline queue, no resending after a reconnect,
 *   a command timeout for a Redis that stopped answering), with a ConfabError CLUSTER_UNAVAILABLE that is
 *   retryable and names the Redis by its redacted URL;
 * - the password never appears in a log line or an error: only `redactUrl(url)` is ever shown.
 */
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { ConfabError } from '../errors.js';
import type { Logger } from '../logger.js';

/** The first reconnection delay. */
export const RECONNECT_MIN_MS = 100;
/** The longest reconnection delay. */
export const RECONNECT_MAX_MS = 1000;
/** How long a command may wait for Redis's answer by default. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 1000;
/** How long connecting may take by default before the attempt counts as failed. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 2000;

/** What replaces a password in a shown URL. */
const MASK = '***';

/** Options of `connectRedis`. */
export interface RedisConnectOptions {
  /** What the connection is for, in logs and in `CLIENT LIST` (`confab-directory`, `confab-bus-sub`). */
  name?: string;
  /** Where connection losses and recoveries are logged (the redacted URL only). Default: nowhere. */
  log?: Logger;
  /** How long a command may wait for its answer. Default 1000 ms. */
  commandTimeoutMs?: number;
  /** How long a connection attempt may take. Default 2000 ms. */
  connectTimeoutMs?: number;
}

/** One Redis connection, as the directory and the bus use it. */
export interface RedisConnection {
  /** The Redis URL with its password replaced by `***`: the only form of it to show. */
  readonly url: string;
  /** The ioredis client (for subscribing and its events); run commands through `run` to get coded errors. */
  readonly client: Redis;
  /** True while the connection is up and ready for commands. */
  readonly ready: boolean;
  /**
   * Connects, or waits for the connection attempt under way (concurrent calls share it). Resolves when Redis
   * answers (at once when connected); rejects with CLUSTER_UNAVAILABLE when the attempt fails, while the
   * connection keeps trying in the background until `close()`.
   */
  start(): Promise<void>;
  /**
   * Runs `command` on the client. Waits for a first connection attempt still under way; otherwise fails at
   * once while Redis is unreachable. Every failure becomes CLUSTER_UNAVAILABLE (retryable) saying `what`
   * failed and naming the redacted URL.
   */
  run<T>(what: string, command: (client: Redis) => Promise<T>): Promise<T>;
  /** Disconnects and stops reconnecting. Idempotent. */
  close(): Promise<void>;
}

/**
 * The URL to show: the password (in the user part or a `password` query parameter) replaced by `***`. A URL
 * that does not parse is not echoed at all.
 *
 * @example
 *   redactUrl('redis://:s3cret@10.0.0.5:6379/0'); // 'redis://:***@10.0.0.5:6379/0'
 *   redactUrl('redis://confab:s3cret@db:6379');    // 'redis://confab:***@db:6379'
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '<a Redis URL that does not parse>';
  }
  if (parsed.password !== '') parsed.password = MASK;
  for (const key of [...parsed.searchParams.keys()]) {
    if (/pass|secret|token/i.test(key)) parsed.searchParams.set(key, MASK);
  }
  return parsed.toString().replace(/%2A%2A%2A/g, MASK);
}

/** The secrets of a URL as they might appear in text (raw and percent-decoded), to scrub them from messages. */
function secretsOf(url: string): string[] {
  try {
    const parsed = new URL(url);
    const found = [parsed.password, ...[...parsed.searchParams].filter(([key]) => /pass|secret|token/i.test(key)).map(([, value]) => value)];
    return found.filter((s) => s !== '').flatMap((s) => {
      let decoded = s;
      try {
        decoded = decodeURIComponent(s);
      } catch { /* keep the raw form */ }
      return [s, decoded];
    });
  } catch {
    return [url];
  }
}

/** `text` with every secret replaced by `***`. */
function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join(MASK);
  return out;
}

/**
 * A CLUSTER_UNAVAILABLE error (retryable) for `what` against the Redis at `shownUrl` (already redacted).
 *
 * @example
 *   throw clusterUnavailable('placing room lab1', 'redis://:***@10.0.0.5:6379', 'connection refused');
 */
export function clusterUnavailable(what: string, shownUrl: string, reason?: string): ConfabError {
  const because = reason ? ` (${reason})` : '';
  return new ConfabError('CLUSTER_UNAVAILABLE', `${what}: Redis at ${shownUrl} cannot be reached${because}; retry in a few seconds`);
}

/**
 * Makes a Redis connection for the cluster: lazy (nothing happens before `start()` or `run()`), reconnecting
 * forever with a capped backoff, failing fast while disconnected.
 *
 * @example
 *   const redis = connectRedis(process.env.CONFAB_REDIS_URL!, { name: 'confab-directory', log });
 *   await redis.start(); // CLUSTER_UNAVAILABLE when Redis is down
 *   const pong = await redis.run('pinging', (client) => client.ping());
 *   await redis.close();
 */
export function connectRedis(url: string, options: RedisConnectOptions = {}): RedisConnection {
  const shown = redactUrl(url);
  const secrets = secretsOf(url);
  const name = options.name ?? 'confab';
  const log = options.log;
  const clientOptions: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: true,
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    connectTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    connectionName: name,
    retryStrategy: (times) => Math.min(RECONNECT_MIN_MS * 2 ** Math.max(0, times - 1), RECONNECT_MAX_MS),
  };
  let client: Redis;
  try {
    client = new Redis(url, clientOptions);
  } catch (error) {
    // ioredis may quote the URL it could not parse: say only what it was.
    throw new ConfabError('CONFIG_INVALID', `${shown} is not a Redis URL this server can use (${scrub(String((error as Error)?.message ?? error), secrets)})`);
  }

  let closed = false;
  let starting: Promise<void> | undefined;
  /** True once the first connection attempt has settled (after that, commands never wait). */
  let firstAttemptDone = false;
  /** True between a loss being logged and the recovery being logged, so that an outage logs twice, not once per retry. */
  let down = false;

  const reason = (error: unknown): string => scrub(error instanceof Error ? error.message : String(error), secrets);

  /** The last error the connection reported, to say why a start failed (ioredis only says the connection closed). */
  let lastError: unknown;
  client.on('error', (error: unknown) => {
    lastError = error;
    if (closed || down) return;
    down = true;
    log?.warn('Redis cannot be reached; reconnecting', { redis: shown, connection: name, reason: reason(error) });
  });
  client.on('ready', () => {
    lastError = undefined;
    if (down) log?.info('Redis reachable again', { redis: shown, connection: name });
    down = false;
  });
  client.on('close', () => {
    if (closed || down || !firstAttemptDone) return;
    down = true;
    log?.warn('connection to Redis lost; reconnecting', { redis: shown, connection: name });
  });

  /** Resolves on the next `ready`, rejects on the next `close` (one connection attempt). */
  const nextAttempt = (): Promise<void> => {
    if (client.status === 'ready') return Promise.resolve();
    if (client.status === 'wait' || client.status === 'end') return client.connect();
    return new Promise((resolve, reject) => {
      const onReady = () => {
        client.off('close', onClose).off('end', onClose);
        resolve();
      };
      // 'end' too: a connection closed while it waits to reconnect ends without another 'close'.
      const onClose = () => {
        client.off('ready', onReady).off('close', onClose).off('end', onClose);
        reject(new Error(`connection ${client.status}`));
      };
      client.once('ready', onReady);
      client.once('close', onClose);
      client.once('end', onClose);
    });
  };

  const start = (): Promise<void> => {
    if (closed) return Promise.reject(new ConfabError('CLUSTER_UNAVAILABLE', `the connection to Redis at ${shown} is closed`, { retryable: false }));
    if (starting) return starting;
    const attempt = nextAttempt().then(
      () => {
        firstAttemptDone = true;
        starting = undefined;
      },
      (error: unknown) => {
        firstAttemptDone = true;
        starting = undefined;
        throw clusterUnavailable('connecting', shown, reason(lastError ?? error));
      },
    );
    starting = attempt;
    return attempt;
  };

  return {
    url: shown,
    client,
    get ready() {
      return !closed && client.status === 'ready';
    },
    start,
    async run(what, command) {
      if (closed) throw new ConfabError('CLUSTER_UNAVAILABLE', `${what}: the connection to Redis at ${shown} is closed`, { retryable: false });
      if (client.status === 'wait' || (!firstAttemptDone && starting)) await start().catch(() => {});
      if (client.status !== 'ready') throw clusterUnavailable(what, shown, `connection ${client.status}`);
      try {
        return await command(client);
      } catch (error) {
        throw clusterUnavailable(what, shown, reason(error));
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      if (client.status === 'ready') {
        try {
          await client.quit();
        } catch { /* disconnected below anyway */ }
      }
      client.disconnect();
    },
  };
}

/** A Lua script run by its SHA1, sent again when Redis does not know it (after a restart). */
export interface RedisScript {
  /** Runs the script with `keys` and `args`; resolves to what it returns. */
  run(client: Redis, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown>;
}

/**
 * A Lua script for `RedisScript.run`: EVALSHA, falling back to EVAL on NOSCRIPT.
 *
 * @example
 *   const compareAndDelete = defineScript("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0");
 *   await compareAndDelete.run(client, ['confab:room:lab1'], ['node-a']);
 */
export function defineScript(lua: string): RedisScript {
  const sha = createHash('sha1').update(lua).digest('hex');
  return {
    async run(client, keys, args) {
      try {
        return await client.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return client.eval(lua, keys.length, ...keys, ...args);
      }
    },
  };
}
