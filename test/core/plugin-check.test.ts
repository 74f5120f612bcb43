/**
 * core/plugin-check.ts: the checks a plugins list passes before the server starts, each failure one
 * PLUGIN_INVALID naming the plugin.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChannelKind } from '../../core/protocol.js';
import { defineErrors, isConfabError } from '../../core/errors.js';
import { MAX_CHANNELS, validatePlugins } from '../../core/plugin-check.js';
import { defineService } from '../../core/services.js';
import type { Plugin } from '../../core/types.js';

const HISTORY = defineService<{ last(): string[] }>('chat:history');
const setup = () => {};

/** A channel definition as jsonChannel and its kin make them; `spec` may be anything, to test refusals. */
const channel = (name: unknown, spec: { kind: unknown; maxPayload?: unknown }) => ({ name, ...spec, parse: spec.kind === 'json' ? (m: object) => m : undefined });
/** A plugin with these channels (name → kind and limit). */
const plugin = (name: string, channels?: Record<string, { kind: unknown; maxPayload?: unknown }>, extra: Partial<Plugin> = {}): Plugin => ({
  name,
  ...(channels ? { channels: Object.entries(channels).map(([n, spec]) => channel(n, spec)) as Plugin['channels'] } : {}),
  setup,
  ...extra,
});

/** The error's message when `fn` throws a ConfabError with `code`. */
function errorOf(fn: () => unknown, code: string): string {
  try {
    fn();
  } catch (error) {
    assert.ok(isConfabError(error), `expected a ConfabError, got ${String(error)}`);
    assert.is(error.code, code);
    return error.message;
  }
  assert.unreachable(`expected ${code}`);
  return '';
}

test('validatePlugins() returns the same plugin objects for a valid list', () => {
  const chat = plugin('chat', { chat: { kind: 'json' } });
  const files = plugin('files', { 'files:meta': { kind: 'json' }, 'files.data': { kind: 'binary', maxPayload: 65536 } }, { requires: [HISTORY] });
  chat.provides = [HISTORY];
  const video = plugin('video-relay', { video: { kind: 'media' } });
  const list = [chat, files, video];
  const result = validatePlugins(list);
  assert.is(result, list);
  assert.is(result[1], files);
});

test('validatePlugins(undefined) returns an empty list', () => {
  assert.equal(validatePlugins(undefined), []);
});

test('validatePlugins() allows extra plugin properties (an API for other plugins)', () => {
  validatePlugins([plugin('chat', undefined, { api: { hooks: {} } } as Partial<Plugin>)]);
});

const invalidLists: [string, unknown][] = [
  ['a non-array', { chat: plugin('chat') }],
  ['a factory that was not called', [function chat() {}]],
  ['a non-object entry', ['chat']],
  ['a null entry', [null]],
  ['a plugin without a name', [{ setup }]],
  ['an empty name', [{ name: '', setup }]],
  ['an upper-case name', [plugin('Chat')]],
  ['a name starting with a digit', [plugin('2chat')]],
  ['a name with an underscore', [plugin('my_chat')]],
  ['a plugin listed twice', [plugin('chat'), plugin('chat')]],
  ['a plugin without setup', [{ name: 'chat' }]],
  ['a setup that is not a function', [{ name: 'chat', setup: 'yes' }]],
  ['a misspelt channels key', [{ name: 'chat', chanels: { chat: { kind: 'json' } }, setup }]],
  ['channels as an array of specs without names', [{ name: 'chat', channels: [{ kind: 'json' }], setup }]],
  ['a channel kind "text"', [plugin('chat', { chat: { kind: 'text' } })]],
  ['a channel without kind', [plugin('chat', { chat: { kind: undefined } })]],
  ['channels as an object of specs (the old form)', [{ name: 'chat', channels: { chat: { kind: 'json' } }, setup }]],
  ['a channel definition that is a string', [{ name: 'chat', channels: ['chat'], setup }]],
  ['a channel name with upper case', [plugin('chat', { Chat: { kind: 'json' } })]],
  ['a channel name with a space', [plugin('chat', { 'chat room': { kind: 'json' } })]],
  ['an empty channel name', [plugin('chat', { '': { kind: 'json' } })]],
  ['a channel maxPayload of 0', [plugin('chat', { chat: { kind: 'json', maxPayload: 0 } })]],
  ['a channel maxPayload of 1.5', [plugin('chat', { chat: { kind: 'json', maxPayload: 1.5 } })]],
  ['a channel maxPayload as a string', [plugin('chat', { chat: { kind: 'json', maxPayload: '1k' } })]],
  ['a channel declared by two plugins', [plugin('chat', { msg: { kind: 'json' } }), plugin('files', { msg: { kind: 'binary' } })]],
  ['requires that is not a list of service keys', [plugin('files', undefined, { requires: 'chat' as unknown as [] })]],
  ['a required service provided by a plugin listed later', [plugin('files', undefined, { requires: [HISTORY] }), plugin('chat', undefined, { provides: [HISTORY] })]],
  ['a required service nobody provides', [plugin('files', undefined, { requires: [HISTORY] })]],
  ['a service provided twice', [plugin('chat', undefined, { provides: [HISTORY] }), plugin('files', undefined, { provides: [HISTORY] })]],
  ['a grant not named after its plugin', [plugin('chat', undefined, { grants: ['files:send'] })]],
  ['a grant without an action', [plugin('chat', undefined, { grants: ['chat' as 'chat:x'] })]],
  ['errors defined for another plugin', [plugin('chat', undefined, { errors: defineErrors('files', { FILES_GONE: 'gone' }) })]],
  ['an error code two plugins define', [plugin('chat', undefined, { errors: defineErrors('chat', { SHARED_CODE: 'x' }) }), plugin('files', undefined, { errors: defineErrors('files', { SHARED_CODE: 'y' }) })]],
  ['a json channel definition without parse', [{ name: 'chat', channels: [{ name: 'chat', kind: 'json', parse: undefined }], setup }]],
];

for (const [what, list] of invalidLists) {
  test(`validatePlugins() rejects ${what} with PLUGIN_INVALID`, () => {
    errorOf(() => validatePlugins(list), 'PLUGIN_INVALID');
  });
}

function withChannels(count: number): Plugin[] {
  const plugins: Plugin[] = [];
  for (let p = 0; p * 10 < count; p++) {
    const channels: Record<string, { kind: ChannelKind }> = {};
    for (let c = p * 10; c < Math.min(count, p * 10 + 10); c++) channels[`ch${c}`] = { kind: 'json' };
    plugins.push(plugin(`p${p}`, channels));
  }
  return plugins;
}

test(`validatePlugins() accepts ${MAX_CHANNELS} channels and rejects one more with PLUGIN_INVALID`, () => {
  assert.is(MAX_CHANNELS, 240);
  validatePlugins(withChannels(240));
  errorOf(() => validatePlugins(withChannels(241)), 'PLUGIN_INVALID');
});

test.run();
