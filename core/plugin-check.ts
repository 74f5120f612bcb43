/**
 * The checks a plugins list passes before the server starts (fastify checks its plugins' metadata the same
 * way): each plugin is an object with a valid name and `setup`, its channels are valid and unique across
 * plugins, its error codes and grants are well-formed and its own, its client entry exists, and every
 * service it requires is provided by a plugin listed before it. A failure is one PLUGIN_INVALID error naming the plugin.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfabError } from './errors.js';
import { isPluginGrant } from './grants.js';
import { describeValue, didYouMean } from './options.js';
import { FIRST_CHANNEL_ID, LAST_CHANNEL_ID } from './protocol.js';
import type { Plugin } from './types.js';

const PLUGIN_NAME = /^[a-z][a-z0-9-]*$/;
const CHANNEL_NAME = /^[a-z][a-z0-9-:.]*$/;
const CHANNEL_KINDS = ['json', 'binary', 'media'];
const PLUGIN_KEYS = ['name', 'channels', 'errors', 'grants', 'provides', 'requires', 'client', 'setup'];
const CHANNEL_KEYS = ['kind', 'maxPayload'];
/** Channel type ids 0x10–0xFF: 240 channels across all plugins. */
export const MAX_CHANNELS = LAST_CHANNEL_ID - FIRST_CHANNEL_ID + 1;

/** What the plugins checked so far have claimed: names, channels, error codes, services. */
interface Claims {
  plugins: Map<string, number>;
  channels: Map<string, string>;
  errorCodes: Map<string, string>;
  services: Map<string, string>;
}

const fail = (message: string) => new ConfabError('PLUGIN_INVALID', message);

/**
 * Checks the plugins list. Throws PLUGIN_INVALID naming the plugin; returns the same objects. `undefined` is
 * an empty list.
 *
 * @example
 *   validatePlugins([definePlugin({ name: 'chat', channels: [jsonChannel('chat', { parse })], setup() {} })]);
 */
export function validatePlugins(plugins: unknown): Plugin[] {
  if (plugins === undefined) return [];
  if (!Array.isArray(plugins)) throw fail(`plugins must be an array of plugins, got ${describeValue(plugins)}`);
  const claims: Claims = { plugins: new Map(), channels: new Map(), errorCodes: new Map(), services: new Map() };
  plugins.forEach((plugin: unknown, index) => checkPlugin(plugin, index, plugins, claims));
  if (claims.channels.size > MAX_CHANNELS) {
    throw fail(`the plugins declare ${claims.channels.size} channels; at most ${MAX_CHANNELS} fit in type ids 0x10–0xFF`);
  }
  return plugins as Plugin[];
}

function checkPlugin(plugin: unknown, index: number, all: unknown[], claims: Claims): void {
  const at = `plugins[${index}]`;
  if (typeof plugin === 'function') {
    const name = plugin.name || 'plugin';
    throw fail(`${at} is a function (${name}), not a plugin; call it: ${name}()`);
  }
  if (typeof plugin !== 'object' || plugin === null || Array.isArray(plugin)) {
    throw fail(`${at} must be a plugin object (see definePlugin), got ${describeValue(plugin)}`);
  }
  const p = plugin as Record<string, unknown>;
  if (typeof p.name !== 'string' || p.name === '') throw fail(`${at} must have a name, a non-empty string; got ${describeValue(p.name)}`);
  const name = p.name;
  if (!PLUGIN_NAME.test(name)) {
    throw fail(`${at} is named ${JSON.stringify(name)}; a plugin name is lowercase letters, digits and "-", starting with a letter`);
  }
  const self = `plugin "${name}"`;
  if (claims.plugins.has(name)) throw fail(`${self} is listed twice (plugins[${claims.plugins.get(name)}] and ${at})`);
  // Plugins may carry extra properties, so only near-misses of known keys are errors.
  for (const key of Object.keys(p)) {
    if (PLUGIN_KEYS.includes(key)) continue;
    const guess = didYouMean(key, PLUGIN_KEYS);
    if (guess && !(guess in p)) throw fail(`${self}: ${key} is not a plugin property (did you mean ${guess}?)`);
  }
  if (typeof p.setup !== 'function') throw fail(`${self}: setup must be a function, got ${describeValue(p.setup)}`);
  checkChannels(self, name, p.channels, claims);
  checkErrors(self, name, p.errors, claims);
  checkGrants(self, name, p.grants);
  checkClient(self, p.client);
  checkServices(self, name, p, all.slice(index + 1), claims);
  claims.plugins.set(name, index);
}

function checkChannels(self: string, plugin: string, channels: unknown, claims: Claims): void {
  if (channels === undefined) return;
  if (!Array.isArray(channels)) {
    throw fail(`${self}: channels must be a list of channel definitions (jsonChannel, binaryChannel, mediaChannel from core/channel-def.ts), got ${describeValue(channels)}`);
  }
  for (const channel of channels as unknown[]) {
    if (typeof channel !== 'object' || channel === null) throw fail(`${self}: channels must be channel definitions, got ${describeValue(channel)}`);
    const { name, kind, maxPayload, parse } = channel as Record<string, unknown>;
    checkChannelSpec(self, name, { kind, ...(maxPayload === undefined ? {} : { maxPayload }) });
    if (kind === 'json' && typeof parse !== 'function') {
      throw fail(`${self}: json channel "${String(name)}" needs a parse function that checks what clients send`);
    }
    const owner = claims.channels.get(name as string);
    if (owner !== undefined) throw fail(`${self}: channel "${String(name)}" is already declared by plugin "${owner}"; channel names are unique across plugins`);
    claims.channels.set(name as string, plugin);
  }
}

function checkChannelSpec(self: string, channel: unknown, spec: unknown): asserts channel is string {
  if (typeof channel !== 'string' || !CHANNEL_NAME.test(channel)) {
    throw fail(`${self}: channel ${describeValue(channel)} must be named with lowercase letters, digits, "-", ":" and ".", starting with a letter`);
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
  if (typeof s.kind !== 'string' || !CHANNEL_KINDS.includes(s.kind)) throw fail(`${where} has kind ${describeValue(s.kind)}; use json, binary or media`);
  if (s.maxPayload !== undefined && !(Number.isSafeInteger(s.maxPayload) && (s.maxPayload as number) > 0)) {
    throw fail(`${where}: maxPayload must be a positive integer (bytes), got ${describeValue(s.maxPayload)}`);
  }
}

function checkErrors(self: string, plugin: string, errors: unknown, claims: Claims): void {
  if (errors === undefined) return;
  const specs = (errors as { specs?: unknown } | null)?.specs;
  if (!Array.isArray(specs)) throw fail(`${self}: errors must be what defineErrors('${plugin}', { … }) returns, got ${describeValue(errors)}`);
  for (const spec of specs as Array<{ code: string; plugin: string }>) {
    if (spec.plugin !== plugin) throw fail(`${self}: its errors were defined for plugin "${spec.plugin}"; call defineErrors('${plugin}', …)`);
    const owner = claims.errorCodes.get(spec.code);
    if (owner !== undefined) throw fail(`${self}: error code ${spec.code} is already plugin "${owner}"'s; prefix codes with the plugin's name`);
    claims.errorCodes.set(spec.code, plugin);
  }
}

function checkGrants(self: string, plugin: string, grants: unknown): void {
  if (grants === undefined) return;
  if (!Array.isArray(grants)) throw fail(`${self}: grants must be a list like ['${plugin}:start'], got ${describeValue(grants)}`);
  for (const grant of grants) {
    if (!isPluginGrant(grant, plugin)) {
      throw fail(`${self}: grant ${describeValue(grant)} must be named "${plugin}:<action>" (lowercase letters, digits and "-")`);
    }
  }
}

function checkClient(self: string, client: unknown): void {
  if (client === undefined) return;
  if (!(client instanceof URL) || client.protocol !== 'file:') {
    throw fail(`${self}: client must be the file URL of its client entry, like new URL('./entry.ts', import.meta.url); got ${describeValue(client)}`);
  }
  if (!existsSync(client)) throw fail(`${self}: its client entry ${fileURLToPath(client)} does not exist`);
}

function checkServices(self: string, plugin: string, p: Record<string, unknown>, later: unknown[], claims: Claims): void {
  const keys = (field: 'provides' | 'requires'): string[] => {
    const list = p[field];
    if (list === undefined) return [];
    if (!Array.isArray(list) || !list.every((key) => typeof (key as { name?: unknown } | null)?.name === 'string')) {
      throw fail(`${self}: ${field} must be a list of service keys (defineService), got ${describeValue(list)}`);
    }
    return list.map((key) => (key as { name: string }).name);
  };
  for (const service of keys('requires')) {
    if (claims.services.has(service)) continue;
    const provider = later.find((other) => ((other as { provides?: Array<{ name: string }> } | null)?.provides ?? []).some((key) => key.name === service));
    const providerName = (provider as { name?: string } | undefined)?.name;
    throw fail(providerName
      ? `${self} requires service "${service}", which plugin "${providerName}" provides but is listed after it; move "${providerName}" before "${plugin}"`
      : `${self} requires service "${service}", which no plugin provides; add the plugin that provides it before "${plugin}"`);
  }
  for (const service of keys('provides')) {
    const owner = claims.services.get(service);
    if (owner !== undefined) throw fail(`${self} provides service "${service}", which plugin "${owner}" already provides`);
    claims.services.set(service, plugin);
  }
}
