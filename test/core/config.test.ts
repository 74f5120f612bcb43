import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defineConfig, definePlugin, resolveServerOptions, validateConfig } from '../../core/config.js';
import { isConfabError } from '../../core/errors.js';
import { readOptions } from '../../core/options.js';
import { DEFAULT_MAX_PAYLOAD } from '../../core/protocol.js';
import type { Plugin, ServerOptions } from '../../core/types.js';


/** Runs fn, expecting a ConfabError with `code`; returns its message for the few checks that need it. */
function errorOf(fn: () => unknown, code: string): string {
  try {
    fn();
  } catch (error) {
    assert.ok(isConfabError(error), `expected a ConfabError, got ${String(error)}`);
    assert.is(error.code, code, error.message);
    return error.message;
  }
  assert.unreachable(`expected ${code}`);
  return '';
}

const setup = () => {};
const plugin = (name: string): Plugin => ({ name, setup });

test('defineConfig() and definePlugin() return their argument unchanged', () => {
  const p = plugin('chat');
  const config = { server: { port: 1 }, plugins: [p] };
  assert.is(defineConfig(config), config);
  assert.is(definePlugin(p), p);
});

test('resolveServerOptions(undefined) fills every default', () => {
  assert.equal(resolveServerOptions(undefined), {
    host: '127.0.0.1',
    port: 5000,
    dataDir: resolve(process.cwd(), '.confab'),
    store: resolve(process.cwd(), '.confab', 'confab.db'),
    name: hostname(),
    maxPayload: DEFAULT_MAX_PAYLOAD,
    heartbeatMs: 3000,
    idleTimeoutMs: 15_000,
    helloTimeoutMs: 10_000,
    resumeGraceMs: 30_000,
    resumeBufferFrames: 1024,
    resumeBufferBytes: 4 * 1024 * 1024,
    maxQueueBytes: 8 * 1024 * 1024,
    mediaHighWaterBytes: 256 * 1024,
    udp: true,
    maxConnections: 1024,
    maxConnectionsPerAddress: 256,
    jsonMessagesPerSecond: 500,
    binaryMessagesPerSecond: 2000,
    mediaMessagesPerSecond: 1000,
    maxDroppedMessages: 1000,
    maxJsonBytes: 1024 * 1024,
    maxJsonDepth: 32,
    logLevel: 'info',
    metricsPerRoom: false,
    tls: 'off',
  });
});

test('resolveServerOptions() keeps given values and derives idleTimeoutMs from heartbeatMs', () => {
  const options = resolveServerOptions({ port: 0, heartbeatMs: 1000, udp: false, logLevel: 'silent', host: '::1' });
  assert.is(options.port, 0);
  assert.is(options.idleTimeoutMs, 5000);
  assert.is(options.udp, false);
  assert.is(options.logLevel, 'silent');
  assert.is(options.host, '::1');
  assert.is(resolveServerOptions({ heartbeatMs: 1000, idleTimeoutMs: 1500 }).idleTimeoutMs, 1500);
});

test('resolveServerOptions() takes the store from server.store, else CONFAB_STORE_URL, else <dataDir>/confab.db', () => {
  const saved = process.env.CONFAB_STORE_URL;
  try {
    delete process.env.CONFAB_STORE_URL;
    assert.is(resolveServerOptions({ dataDir: '/srv/confab' }).store, '/srv/confab/confab.db');
    assert.is(resolveServerOptions({ dataDir: '/srv/confab', store: 'sqlite:other.db' }).store, '/srv/confab/other.db');
    process.env.CONFAB_STORE_URL = 'postgres://confab:pw@db.lan/confab';
    assert.is(resolveServerOptions({ dataDir: '/srv/confab' }).store, 'postgres://confab:pw@db.lan/confab');
    assert.is(resolveServerOptions({ store: 'postgresql://a@b/c' }).store, 'postgresql://a@b/c', 'the option wins over the environment');
  } finally {
    if (saved === undefined) delete process.env.CONFAB_STORE_URL;
    else process.env.CONFAB_STORE_URL = saved;
  }
});

test('resolveServerOptions() resolves a relative dataDir against the working directory', () => {
  assert.is(resolveServerOptions({ dataDir: 'data/x' }).dataDir, resolve(process.cwd(), 'data/x'));
  assert.is(resolveServerOptions({ dataDir: '/srv/confab' }).dataDir, '/srv/confab');
});

const wrongValues: [keyof ServerOptions, unknown][] = [
  ['host', 5],
  ['host', ''],
  ['port', '5000x'],
  ['port', '5000'],
  ['port', 65536],
  ['port', -1],
  ['port', 1.5],
  ['dataDir', ''],
  ['dataDir', null],
  ['name', {}],
  ['maxPayload', 0],
  ['maxPayload', 2 ** 32],
  ['heartbeatMs', 0],
  ['heartbeatMs', Number.NaN],
  ['idleTimeoutMs', '15s'],
  ['helloTimeoutMs', 2 ** 31],
  ['resumeGraceMs', -1],
  ['resumeBufferFrames', 1.5],
  ['resumeBufferBytes', []],
  ['maxQueueBytes', 0],
  ['mediaHighWaterBytes', -1],
  ['udp', 'yes'],
  ['udp', 1],
  ['logLevel', 'verbose'],
];

for (const [option, value] of wrongValues) {
  test(`resolveServerOptions() rejects ${option}: ${JSON.stringify(value) ?? String(value)} with CONFIG_INVALID naming server.${option}`, () => {
    const message = errorOf(() => resolveServerOptions({ [option]: value } as ServerOptions), 'CONFIG_INVALID');
    assert.ok(message.startsWith(`server.${option} must be`), message);
  });
}

test('resolveServerOptions() rejects an unknown option with CONFIG_INVALID suggesting the nearest name', () => {
  assert.ok(errorOf(() => resolveServerOptions({ prot: 5000 } as ServerOptions), 'CONFIG_INVALID').includes('did you mean port?'));
  assert.ok(errorOf(() => resolveServerOptions({ heartbeat: 1 } as ServerOptions), 'CONFIG_INVALID').includes('did you mean heartbeatMs?'));
  assert.ok(errorOf(() => resolveServerOptions({ loglevel: 'info' } as ServerOptions), 'CONFIG_INVALID').includes('did you mean logLevel?'));
  const far = errorOf(() => resolveServerOptions({ colour: 'red' } as ServerOptions), 'CONFIG_INVALID');
  assert.not.ok(far.includes('did you mean'), far);
});

test('resolveServerOptions() rejects a server block that is not an object with CONFIG_INVALID', () => {
  errorOf(() => resolveServerOptions(5000 as unknown as ServerOptions), 'CONFIG_INVALID');
  errorOf(() => resolveServerOptions([] as unknown as ServerOptions), 'CONFIG_INVALID');
});

test('resolveServerOptions() rejects idleTimeoutMs not above heartbeatMs with CONFIG_INVALID', () => {
  errorOf(() => resolveServerOptions({ heartbeatMs: 3000, idleTimeoutMs: 3000 }), 'CONFIG_INVALID');
  errorOf(() => resolveServerOptions({ idleTimeoutMs: 2000 }), 'CONFIG_INVALID');
});

test('resolveServerOptions() rejects mediaHighWaterBytes not below maxQueueBytes with CONFIG_INVALID', () => {
  errorOf(() => resolveServerOptions({ maxQueueBytes: 1000, mediaHighWaterBytes: 1000 }), 'CONFIG_INVALID');
  errorOf(() => resolveServerOptions({ maxQueueBytes: 100_000 }), 'CONFIG_INVALID');
});

test('validateConfig() rejects an unknown top-level key with CONFIG_INVALID suggesting the nearest', () => {
  assert.ok(errorOf(() => validateConfig({ plugin: [] }), 'CONFIG_INVALID').includes('did you mean plugins?'));
  errorOf(() => validateConfig('config'), 'CONFIG_INVALID');
});

test('validateConfig() checks both the server options and the plugins', () => {
  errorOf(() => validateConfig({ server: { port: 'x' } }), 'CONFIG_INVALID');
  errorOf(() => validateConfig({ plugins: [plugin('Chat')] }), 'PLUGIN_INVALID');
  const config = { server: { port: 0 }, plugins: [plugin('chat')] };
  assert.is(validateConfig(config), config);
});

const chatSchema = {
  historyLimit: { type: 'integer', min: 0, default: 100 },
  maxTextLength: { type: 'integer', min: 1, max: 65536, default: 4000 },
  ratio: { type: 'number', min: 0, max: 1, default: 0.5 },
  greeting: { type: 'string', default: 'hi' },
  mode: { type: 'string', values: ['open', 'closed'], default: 'open' },
  persist: { type: 'boolean', default: true },
  token: { type: 'string' },
} as const;

test('readOptions() fills defaults and keeps given values, typed from the schema', () => {
  const options = readOptions('chat', { historyLimit: 0, mode: 'closed' }, chatSchema);
  assert.equal(options, { historyLimit: 0, maxTextLength: 4000, ratio: 0.5, greeting: 'hi', mode: 'closed', persist: true, token: undefined });
  // Compile-time checks of the inferred types.
  const limit: number = options.historyLimit;
  const mode: 'open' | 'closed' = options.mode;
  const persist: boolean = options.persist;
  const token: string | undefined = options.token;
  void [limit, mode, persist, token];
  assert.equal(readOptions('chat', undefined, chatSchema).historyLimit, 100);
});

test('readOptions() rejects a value out of range with CONFIG_INVALID naming the plugin and option', () => {
  const message = errorOf(() => readOptions('chat', { historyLimit: -1 }, chatSchema), 'CONFIG_INVALID');
  assert.is(message, 'plugin "chat": option historyLimit must be an integer ≥ 0, got -1');
  errorOf(() => readOptions('chat', { maxTextLength: 70_000 }, chatSchema), 'CONFIG_INVALID');
  errorOf(() => readOptions('chat', { ratio: 2 }, chatSchema), 'CONFIG_INVALID');
});

test('readOptions() rejects wrong types with CONFIG_INVALID', () => {
  errorOf(() => readOptions('chat', { historyLimit: '10' }, chatSchema), 'CONFIG_INVALID');
  errorOf(() => readOptions('chat', { ratio: Number.POSITIVE_INFINITY }, chatSchema), 'CONFIG_INVALID');
  errorOf(() => readOptions('chat', { greeting: 5 }, chatSchema), 'CONFIG_INVALID');
  errorOf(() => readOptions('chat', { mode: 'ajar' }, chatSchema), 'CONFIG_INVALID');
  errorOf(() => readOptions('chat', { persist: 'true' }, chatSchema), 'CONFIG_INVALID');
  errorOf(() => readOptions('chat', 5, chatSchema), 'CONFIG_INVALID');
});

test('readOptions() rejects an unknown option with CONFIG_INVALID suggesting the nearest', () => {
  const message = errorOf(() => readOptions('chat', { historyLimt: 5 }, chatSchema), 'CONFIG_INVALID');
  assert.ok(message.startsWith('plugin "chat": ') && message.includes('did you mean historyLimit?'), message);
});

test.run();
