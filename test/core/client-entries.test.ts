import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { jsonChannel } from '../../core/channel-def.js';
import { definePlugin, validatePlugins } from '../../core/config.js';
import { ClientEntries } from '../../core/client/entries.js';
import { checkClientEntry, defineClientEntry } from '../../core/client/entry.js';
import { ConfabClient } from '../../core/client/node.js';
import type { ConfabError } from '../../core/errors.js';
import { startTestServer } from '../../core/testing.js';

/** The one channel of a test plugin: the server says hello on it. */
const helloChannel = (name: string) => jsonChannel<object, { op: 'hello' }>(name, { parse: () => ({}) });

/** A server plugin with one channel that greets every joiner. */
const greeter = (name: string) => {
  const definition = helloChannel(name);
  return definePlugin({
    name,
    channels: [definition],
    setup(ctx) {
      const channel = ctx.channel(definition);
      ctx.hooks.sessionJoined.tap(name, (session) => channel.send(session, { op: 'hello' }));
    },
  });
};

/** A client entry whose half counts the greetings of its plugin. */
const counter = (name: string) => defineClientEntry({
  name,
  create: () => ({
    name,
    attach(ctx) {
      const state = { greetings: 0 };
      ctx.channel(helloChannel(name)).onMessage(() => state.greetings++);
      return state;
    },
  }),
});

test('WELCOME lists the server\'s plugins in order: client.plugins', async () => {
  const lab = await startTestServer({ plugins: [greeter('alpha'), greeter('beta')] });
  try {
    const alice = await lab.connect('alice');
    assert.equal(alice.client.plugins, ['alpha', 'beta']);
  } finally {
    await lab.close();
  }
});

test('ClientEntries attaches the halves of announced plugins only, and reports each available once', async () => {
  const lab = await startTestServer({ plugins: [greeter('alpha')] });
  const client = new ConfabClient({ url: lab.url, name: 'alice', reconnect: false });
  try {
    const alpha = counter('alpha');
    const gamma = counter('gamma');
    const entries = new ClientEntries(client, [alpha, gamma]);
    const available: string[] = [];
    entries.on('available', ({ entry }) => available.push(entry.name));
    assert.is(entries.api(alpha), undefined, 'nothing is attached before WELCOME');
    await client.connect();
    assert.equal(available, ['alpha']);
    assert.is(entries.api(gamma), undefined, 'the server does not run gamma');
    await lab.waitFor(() => entries.api(alpha)?.greetings === 1, 'the greeting sent before the half was attached');
    assert.equal(entries.available.map((a) => a.entry.name), ['alpha']);
    assert.throws(() => entries.offer(counter('alpha')), (error: ConfabError) => error.code === 'PLUGIN_INVALID');
  } finally {
    await client.close();
    await lab.close();
  }
});

test('ClientEntries.use() attaches at once (another half of the same API may stand in); it is available once announced', async () => {
  const lab = await startTestServer({ plugins: [greeter('alpha')] });
  const client = new ConfabClient({ url: lab.url, name: 'alice', reconnect: false });
  try {
    const entries = new ClientEntries(client);
    const early = entries.use(counter('alpha'));
    const standIn = entries.use(counter('beta'), counter('beta').create());
    assert.equal(early, { greetings: 0 }, 'the API is there before connecting');
    assert.is(entries.available.length, 0);
    await client.connect();
    assert.equal(entries.available.map((a) => a.entry.name), ['alpha'], 'beta is attached but the server does not run it');
    assert.is(standIn.greetings, 0);
    const misnamed = defineClientEntry({ name: 'delta', create: () => counter('epsilon').create() });
    assert.throws(() => entries.use(misnamed), /named "epsilon"/);
  } finally {
    await client.close();
    await lab.close();
  }
});

test('an offered entry that fails to attach is an error event; the client carries on', async () => {
  const lab = await startTestServer({ plugins: [greeter('alpha'), greeter('beta')] });
  const client = new ConfabClient({ url: lab.url, name: 'alice', reconnect: false });
  try {
    const errors: ConfabError[] = [];
    client.on('error', (error) => errors.push(error));
    const broken = defineClientEntry({ name: 'alpha', create: () => { throw new Error('boom'); } });
    const entries = new ClientEntries(client, [broken, counter('beta')]);
    await client.connect();
    assert.equal(errors.map((e) => [e.code, e.message]), [['PLUGIN_INVALID', 'the client entry "alpha" could not be attached: boom']]);
    assert.equal(entries.available.map((a) => a.entry.name), ['beta']);
    assert.is(client.state, 'open');
  } finally {
    await client.close();
    await lab.close();
  }
});

test('checkClientEntry() names the module whose default export is no entry', () => {
  const entry = counter('alpha');
  assert.is(checkClientEntry(entry, 'x.ts'), entry);
  for (const bad of [undefined, null, 42, { name: 'alpha' }, { name: 'Alpha!', create() {} }, { name: 'a', create() {}, terminal: {} }]) {
    assert.throws(() => checkClientEntry(bad, 'plugins/x/entry.ts'), (error: ConfabError) => error.code === 'PLUGIN_INVALID' && error.message.startsWith('plugins/x/entry.ts: '));
  }
});

test('a plugin\'s client is the file URL of an entry that exists; a near-miss key is named', () => {
  const plugin = (client: unknown) => ({ name: 'demo', client, setup() {} });
  validatePlugins([plugin(new URL(import.meta.url))]);
  const refused = (value: unknown) => {
    try {
      validatePlugins([value]);
    } catch (error) {
      return (error as ConfabError).message;
    }
    return 'accepted';
  };
  assert.match(refused(plugin('./entry.ts')), /client must be the file URL of its client entry/);
  assert.match(refused(plugin(new URL('https://example.com/entry.js'))), /client must be the file URL/);
  assert.match(refused(plugin(new URL('./no-such-entry.ts', import.meta.url))), /its client entry .*no-such-entry\.ts does not exist/);
  assert.match(refused({ name: 'demo', clinet: new URL(import.meta.url), setup() {} }), /clinet is not a plugin property \(did you mean client\?\)/);
});

test.run();
