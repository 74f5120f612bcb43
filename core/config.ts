/**
 * Configuration: `defineConfig` and `definePlugin` for typed config files, and the checks that turn a
 * wrong option or plugin into one clear error before the server listens.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { ConfabError } from './errors.js';
import { checkOptions, describeValue, didYouMean, type OptionSpec } from './options.js';
import { DEFAULT_MAX_PAYLOAD, FIRST_CHANNEL_ID, LAST_CHANNEL_ID } from './protocol.js';
import type { ChannelSpec, ConfabConfig, Plugin, ResolvedServerOptions, ServerOptions, TlsOption } from './types.js';

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
 *   export const echo = () =>
 *     definePlugin({
 *       name: 'echo',
 *       channels: { echo: { kind: 'json' } },
 *       setup(ctx) {
 *         const channel = ctx.channel('echo');
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
  } as const satisfies Record<Exclude<keyof ServerOptions, 'tls'>, OptionSpec>;
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
  const { tls, ...rest }: ServerOptions = isPlainObject(options) ? options : {};
  const read = checkOptions(serverSchema(), isPlainObject(options) ? rest : options, {
    fail,
    subject: (key) => `server.${key}`,
    unknown: (key) => `server.${key}`,
    whole: 'server',
  });
  const resolved: ResolvedServerOptions = {
    ...read,
    dataDir: resolve(process.cwd(), read.dataDir),
    idleTimeoutMs: read.idleTimeoutMs ?? Math.min(5 * read.heartbeatMs, MAX_TIMER_MS),
    tls: resolveTlsOption(tls, read.host, fail),
  };
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

const PLUGIN_NAME = /^[a-z][a-z0-9-]*$/;
const CHANNEL_NAME = /^[a-z][a-z0-9-:.]*$/;
const CHANNEL_KINDS = ['json', 'binary', 'media'];
const PLUGIN_KEYS = ['name', 'channels', 'dependencies', 'setup'];
const CHANNEL_KEYS = ['kind', 'maxPayload'];
/** Channel type ids 0x10–0xFF: 240 channels across all plugins. */
export const MAX_CHANNELS = LAST_CHANNEL_ID - FIRST_CHANNEL_ID + 1;

/**
 * Checks the plugins list: names, `setup`, channel specs, unique plugin and channel names, dependencies
 * listed earlier, at most 240 channels. Throws PLUGIN_INVALID naming the plugin; returns the same objects.
 * `undefined` is an empty list.
 *
 * @example
 *   validatePlugins([definePlugin({ name: 'chat', channels: { chat: { kind: 'text' } }, setup() {} })]);
 *   // PLUGIN_INVALID: plugin "chat": channel "chat" has kind "text"; use json, binary or media
 */
export function validatePlugins(plugins: unknown): Plugin[] {
  const fail = (message: string) => new ConfabError('PLUGIN_INVALID', message);
  if (plugins === undefined) return [];
  if (!Array.isArray(plugins)) throw fail(`plugins must be an array of plugins, got ${describeValue(plugins)}`);

  const seen = new Map<string, number>();
  const channelOwner = new Map<string, string>();
  plugins.forEach((plugin: unknown, index) => {
    const at = `plugins[${index}]`;
    if (typeof plugin === 'function') {
      const name = plugin.name || 'plugin';
      throw fail(`${at} is a function (${name}), not a plugin; call it: ${name}()`);
    }
    if (typeof plugin !== 'object' || plugin === null || Array.isArray(plugin)) {
      throw fail(`${at} must be a plugin object (see definePlugin), got ${describeValue(plugin)}`);
    }
    const p = plugin as Record<string, unknown>;
    if (typeof p.name !== 'string' || p.name === '') {
      throw fail(`${at} must have a name, a non-empty string; got ${describeValue(p.name)}`);
    }
    const name = p.name;
    if (!PLUGIN_NAME.test(name)) {
      throw fail(`${at} is named ${JSON.stringify(name)}; a plugin name is lowercase letters, digits and "-", starting with a letter`);
    }
    const self = `plugin "${name}"`;
    if (seen.has(name)) throw fail(`${self} is listed twice (plugins[${seen.get(name)}] and ${at})`);
    // Plugins may carry extra properties (an API for other plugins), so only near-misses of known keys are errors.
    for (const key of Object.keys(p)) {
      if (PLUGIN_KEYS.includes(key)) continue;
      const guess = didYouMean(key, PLUGIN_KEYS);
      if (guess && !(guess in p)) throw fail(`${self}: ${key} is not a plugin property (did you mean ${guess}?)`);
    }
    if (typeof p.setup !== 'function') throw fail(`${self}: setup must be a function, got ${describeValue(p.setup)}`);

    if (p.dependencies !== undefined) {
      if (!Array.isArray(p.dependencies)) {
        throw fail(`${self}: dependencies must be an array of plugin names, got ${describeValue(p.dependencies)}`);
      }
      for (const dependency of p.dependencies as unknown[]) {
        if (typeof dependency !== 'string') {
          throw fail(`${self}: dependencies must be plugin names, got ${describeValue(dependency)}`);
        }
        if (seen.has(dependency)) continue;
        const later = (plugins as unknown[]).slice(index + 1).some((other) => (other as { name?: unknown } | null)?.name === dependency);
        throw fail(
          later
            ? `${self} depends on "${dependency}", which is listed after it; move "${dependency}" before "${name}"`
            : `${self} depends on "${dependency}", which is not in the plugins list; add it before "${name}"`,
        );
      }
    }

    if (p.channels !== undefined) {
      if (typeof p.channels !== 'object' || p.channels === null || Array.isArray(p.channels)) {
        throw fail(`${self}: channels must be an object of channel name → { kind }, got ${describeValue(p.channels)}`);
      }
      for (const [channel, spec] of Object.entries(p.channels as Record<string, unknown>)) {
        checkChannel(self, channel, spec, fail);
        const owner = channelOwner.get(channel);
        if (owner !== undefined) {
          throw fail(`${self}: channel "${channel}" is already declared by plugin "${owner}"; channel names are unique across plugins`);
        }
        channelOwner.set(channel, name);
      }
    }
    seen.set(name, index);
  });
  if (channelOwner.size > MAX_CHANNELS) {
    throw fail(`the plugins declare ${channelOwner.size} channels; at most ${MAX_CHANNELS} fit in type ids 0x10–0xFF`);
  }
  return plugins as Plugin[];
}

function checkChannel(self: string, channel: string, spec: unknown, fail: (message: string) => ConfabError): asserts spec is ChannelSpec {
  if (!CHANNEL_NAME.test(channel)) {
    throw fail(`${self}: channel ${JSON.stringify(channel)} must be lowercase letters, digits, "-", ":" and ".", starting with a letter`);
  }
  const where = `${self}: channel "${channel}"`;
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw fail(`${where} must be { kind: 'json' | 'binary' | 'media' }, got ${describeValue(spec)}`);
  }
  const s = spec as Record<string, unknown>;
  for (const key of Object.keys(s)) {
    if (CHANNEL_KEYS.includes(key)) continue;
    const guess = didYouMean(key, CHANNEL_KEYS);
    throw fail(`${where}: ${key} is not a channel property${guess ? ` (did you mean ${guess}?)` : '; use kind and maxPayload'}`);
  }
  if (typeof s.kind !== 'string' || !CHANNEL_KINDS.includes(s.kind)) {
    throw fail(`${where} has kind ${describeValue(s.kind)}; use json, binary or media`);
  }
  if (s.maxPayload !== undefined && !(Number.isSafeInteger(s.maxPayload) && (s.maxPayload as number) > 0)) {
    throw fail(`${where}: maxPayload must be a positive integer (bytes), got ${describeValue(s.maxPayload)}`);
  }
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
