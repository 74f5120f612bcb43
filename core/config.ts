/**
 * Configuration: `defineConfig` and `definePlugin` for typed config files, and the checks that turn a
 * wrong option or plugin into one clear error before the server listens.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { resolveClusterOptions } from './cluster/options.js';
import { ConfabError } from './errors.js';
import { checkOptions, describeValue, didYouMean, type OptionSpec } from './options.js';
import { DEFAULT_MAX_PAYLOAD } from './protocol.js';
import { parseStoreUrl, STORE_URL_ENV } from './store/url.js';
import { validatePlugins } from './plugin-check.js';
import type { ConfabConfig, Plugin, ResolvedServerOptions, ServerOptions, TlsOption } from './types.js';

export { MAX_CHANNELS, validatePlugins } from './plugin-check.js';

/**
 * Gives a config file its types; returns the config unchanged (Vite's way).
 *
 * @example
 *   // plugins.config.ts
 *   import { defineConfig } from './core/config.js';
 *   import { chat } from './plugins/chat/server.js';
 *   export default defineConfig({
 *     server: { host: '127.0.0.1', port: 5000 },
 *     plugins: [chat({ historyLimit: 500 })],
 *   });
 */
export function defineConfig(config: ConfabConfig): ConfabConfig {
  return config;
}

/**
 * Gives a plugin its types; returns the plugin unchanged. A plugin with options is a factory that checks
 * them with `readOptions` (core/options.ts) and returns `definePlugin({ … })`.
 *
 * @example
 *   const ECHO = jsonChannel<{ text: string }, { text: string }>('echo', { parse: parseEcho });
 *   export const echo = () =>
 *     definePlugin({
 *       name: 'echo',
 *       channels: [ECHO],
 *       setup(ctx) {
 *         const channel = ctx.channel(ECHO);
 *         channel.onMessage((session, message) => channel.send(session, message));
 *       },
 *     });
 */
export function definePlugin(plugin: Plugin): Plugin {
  return plugin;
}

/** The longest a Node timer can wait (2^31 − 1 ms); a larger timeout would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

/**
 * The server options' schema; built per call because two defaults come from the machine. `satisfies` keeps
 * it and the ServerOptions interface in step: a key in only one of them fails to compile.
 */
function serverSchema() {
  return {
    host: { type: 'string', nonEmpty: true, default: '127.0.0.1' },
    port: { type: 'integer', min: 0, max: 65535, default: 5000 },
    dataDir: { type: 'string', nonEmpty: true, default: '.confab' },
    store: { type: 'string' },
    name: { type: 'string', nonEmpty: true, default: hostname() },
    maxPayload: { type: 'integer', min: 1, max: 2 ** 32 - 1, default: DEFAULT_MAX_PAYLOAD },
    heartbeatMs: { type: 'integer', min: 1, max: MAX_TIMER_MS, default: 3000 },
    idleTimeoutMs: { type: 'integer', min: 1, max: MAX_TIMER_MS },
    helloTimeoutMs: { type: 'integer', min: 1, max: MAX_TIMER_MS, default: 10_000 },
    resumeGraceMs: { type: 'integer', min: 0, max: MAX_TIMER_MS, default: 30_000 },
    resumeBufferFrames: { type: 'integer', min: 0, default: 1024 },
    resumeBufferBytes: { type: 'integer', min: 0, default: 4 * 1024 * 1024 },
    maxQueueBytes: { type: 'integer', min: 64 * 1024, default: 8 * 1024 * 1024 },
    // At least a socket's own high-water mark (16 KiB), so a backed-up socket always emits 'drain' later.
    mediaHighWaterBytes: { type: 'integer', min: 16 * 1024, default: 256 * 1024 },
    udp: { type: 'boolean', default: true },
    maxConnections: { type: 'integer', min: 1, default: 1024 },
    maxConnectionsPerAddress: { type: 'integer', min: 1, default: 256 },
    jsonMessagesPerSecond: { type: 'number', min: 0.1, default: 500 },
    binaryMessagesPerSecond: { type: 'number', min: 0.1, default: 2000 },
    mediaMessagesPerSecond: { type: 'number', min: 0.1, default: 1000 },
    maxDroppedMessages: { type: 'integer', min: 1, default: 1000 },
    maxJsonBytes: { type: 'integer', min: 64, default: 1024 * 1024 },
    maxJsonDepth: { type: 'integer', min: 1, max: 1000, default: 32 },
    logLevel: { type: 'string', values: LOG_LEVELS, default: 'info' },
    metricsPerRoom: { type: 'boolean', default: false },
    udpPort: { type: 'integer', min: 0, max: 65535 },
  } as const satisfies Record<Exclude<keyof ServerOptions, 'tls' | 'cluster'>, OptionSpec>;
}

/**
 * Fills every default of the server options and checks each one, throwing CONFIG_INVALID with a message
 * that names the option and what it expects.
 *
 * @example
 *   resolveServerOptions({ port: 0 }).heartbeatMs; // 3000
 *   resolveServerOptions({ prot: 5000 } as ServerOptions);
 *   // CONFIG_INVALID: server.prot is not an option (did you mean port?)
 */
export function resolveServerOptions(options: ServerOptions | undefined): ResolvedServerOptions {
  const fail = (message: string) => new ConfabError('CONFIG_INVALID', message);
  // `tls` is an object or a word, which the flat schema cannot describe: it is checked on its own.
  const { tls, cluster, ...rest }: ServerOptions = isPlainObject(options) ? options : {};
  const read = checkOptions(serverSchema(), isPlainObject(options) ? rest : options, {
    fail,
    subject: (key) => `server.${key}`,
    unknown: (key) => `server.${key}`,
    whole: 'server',
  });
  const resolved: ResolvedServerOptions = {
    ...read,
    dataDir: resolve(process.cwd(), read.dataDir),
    store: resolveStoreOption(read.store, resolve(process.cwd(), read.dataDir)),
    idleTimeoutMs: read.idleTimeoutMs ?? Math.min(5 * read.heartbeatMs, MAX_TIMER_MS),
    tls: resolveTlsOption(tls, read.host, fail),
    ...(cluster !== undefined ? { cluster: resolveClusterOptions(cluster) } : {}),
  };
  // Unset optional options stay absent, as they were not given.
  if (resolved.udpPort === undefined) delete resolved.udpPort;
  if (resolved.idleTimeoutMs <= resolved.heartbeatMs) {
    throw fail(
      `server.idleTimeoutMs (${resolved.idleTimeoutMs}) must be greater than server.heartbeatMs ` +
        `(${resolved.heartbeatMs}), or clients that ping on time are closed as idle`,
    );
  }
  if (resolved.mediaHighWaterBytes >= resolved.maxQueueBytes) {
    throw fail(
      `server.mediaHighWaterBytes (${resolved.mediaHighWaterBytes}) must be less than server.maxQueueBytes ` +
        `(${resolved.maxQueueBytes}), so media is held back before reliable messages overflow the queue`,
    );
  }
  return resolved;
}

/** The `tls` option checked, with its default: self-signed when the host is not loopback, else off. */
function resolveTlsOption(tls: unknown, host: string, fail: (message: string) => Error): TlsOption {
  if (tls === undefined) return isLoopbackHost(host) ? 'off' : 'self-signed';
  if (tls === 'off' || tls === 'self-signed') return tls;
  const paths = tls as Record<string, unknown>;
  if (isPlainObject(tls) && typeof paths.cert === 'string' && typeof paths.key === 'string' && Object.keys(tls).length === 2
    && paths.cert !== '' && paths.key !== '') {
    return { cert: resolve(process.cwd(), paths.cert), key: resolve(process.cwd(), paths.key) };
  }
  throw fail(`server.tls must be { cert, key } (PEM file paths), "self-signed" or "off", got ${describeValue(tls)}`);
}

/** True for `localhost` and addresses in 127.0.0.0/8 or ::1: only this machine can reach them. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare) || /^::ffff:127\./.test(bare);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a whole config as `plugins.config.ts` exports it: an object with `server` and `plugins` only,
 * valid server options (CONFIG_INVALID) and valid plugins (PLUGIN_INVALID). Returns it unchanged, with
 * `server` left as written so that command-line flags can still override it before `resolveServerOptions`.
 */
export function validateConfig(config: unknown): ConfabConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ConfabError('CONFIG_INVALID', `the config must be an object { server, plugins }, got ${describeValue(config)}`);
  }
  for (const key of Object.keys(config)) {
    if (key === 'server' || key === 'plugins') continue;
    const guess = didYouMean(key, ['server', 'plugins']);
    throw new ConfabError('CONFIG_INVALID', `${key} is not a config option${guess ? ` (did you mean ${guess}?)` : '; use server and plugins'}`);
  }
  const { server, plugins } = config as ConfabConfig;
  resolveServerOptions(server);
  validatePlugins(plugins);
  return config as ConfabConfig;
}

/**
 * The store's location: `server.store` when given, else `CONFAB_STORE_URL`, else the SQLite file in the data
 * directory; a SQLite location comes back as its absolute path, a PostgreSQL one as the URL (which holds
 * credentials: show it only through `redactStoreUrl`).
 */
function resolveStoreOption(given: string | undefined, dataDir: string): string {
  const chosen = given?.trim() || process.env[STORE_URL_ENV]?.trim() || undefined;
  const location = parseStoreUrl(chosen, dataDir);
  return location.dialect === 'postgres' ? location.url : location.path;
}
