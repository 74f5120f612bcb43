/**
 * cli/client-entries.ts and what uses it: a config's plugins bring their client entries to `confab bot run
 * --config` (and `confab join --config`, in join-extensions.test.ts) without either being edited.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBot, defineBot } from '../../bots/runtime.js';
import { loadClientEntries } from '../../cli/client-entries.js';
import type { ConfabError } from '../../core/errors.js';
import { startTestServer } from '../../core/testing.js';
import { pollsClient } from '../../plugins/examples/polls/client.js';
import pollsEntry from '../../plugins/examples/polls/entry.js';
import { polls } from '../../plugins/examples/polls/server.js';
import { confab, ROOT } from './harness.js';

let dir = '';
test.before.each(() => {
  // Inside the repository (under .confab/, which git ignores), so that the files' imports resolve.
  mkdirSync(join(ROOT, '.confab'), { recursive: true });
  dir = mkdtempSync(join(ROOT, '.confab', 'entries-test-'));
});
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a config listing the polls and hand-raise examples (and a built-in), returns its path. */
function writeConfig(): string {
  const path = join(dir, 'plugins.config.ts');
  writeFileSync(path, [
    "import { defineConfig } from '../../core/config.js';",
    "import { chat } from '../../plugins/chat/server.js';",
    "import { handRaise } from '../../plugins/examples/hand-raise/server.js';",
    "import { polls } from '../../plugins/examples/polls/server.js';",
    'export default defineConfig({ plugins: [chat(), polls(), handRaise()] });',
    '',
  ].join('\n'));
  return path;
}

test('loadClientEntries() imports the client entry of each of the config\'s plugins that names one, in order', async () => {
  const entries = await loadClientEntries(writeConfig());
  assert.equal(entries.map((entry) => entry.name), ['polls', 'hand-raise']);
  assert.is(entries[0], pollsEntry, 'the same module the clients import');
});

test('loadClientEntries() names the plugin whose entry module exports no entry', async () => {
  mkdirSync(join(dir, 'broken'));
  writeFileSync(join(dir, 'broken', 'entry.ts'), 'export const notAnEntry = 1;\n');
  writeFileSync(join(dir, 'broken', 'server.ts'), [
    "import { definePlugin } from '../../../core/config.js';",
    "export const broken = () => definePlugin({ name: 'broken', client: new URL('./entry.ts', import.meta.url), setup() {} });",
    '',
  ].join('\n'));
  const path = join(dir, 'broken.config.ts');
  writeFileSync(path, "import { broken } from './broken/server.js';\nexport default { plugins: [broken()] };\n");
  const error = await loadClientEntries(path).then(() => undefined, (e: ConfabError) => e);
  assert.is(error?.code, 'PLUGIN_INVALID');
  assert.match(error!.message, /plugin "broken": .*broken\/entry\.ts: its default export must be a client entry/);
});

test('a bot reaches a plugin given in entries with bot.plugin(entry); undefined when the server lacks it', async () => {
  const lab = await startTestServer({ plugins: [polls()] });
  try {
    const alice = await lab.connect('alice', { plugins: { polls: pollsClient() } });
    const seen: Array<string | undefined> = [];
    const asker = defineBot(async (bot) => {
      seen.push((await bot.plugin(pollsEntry)?.create('Tea?', ['green', 'black']))?.question);
      await bot.leave();
    });
    assert.is((await runBot(asker, { server: `127.0.0.1:${lab.port}`, room: 'default', name: 'asker', entries: [pollsEntry] })).reason, 'left');
    assert.equal(seen, ['Tea?']);
    await alice.waitForMessage('polls', (m) => m.poll?.question === 'Tea?');

    const other = await startTestServer();
    try {
      const absent = defineBot(async (bot) => {
        seen.push(bot.plugin(pollsEntry) === undefined ? 'absent' : 'present');
        await bot.leave();
      });
      await runBot(absent, { server: `127.0.0.1:${other.port}`, room: 'default', name: 'absent', entries: [pollsEntry] });
      assert.equal(seen, ['Tea?', 'absent']);
    } finally {
      await other.close();
    }
  } finally {
    await lab.close();
  }
});

test('confab bot run --config: the script gets the config\'s plugin entries', async () => {
  const lab = await startTestServer({ plugins: [polls()] });
  try {
    const alice = await lab.connect('alice', { plugins: { polls: pollsClient() } });
    const script = join(dir, 'asker.ts');
    writeFileSync(script, [
      "import { defineBot } from '../../bots/runtime.js';",
      "import pollsEntry from '../../plugins/examples/polls/entry.js';",
      'export default defineBot(async (bot) => {',
      "  await bot.plugin(pollsEntry)!.create('Coffee?', ['yes', 'no']);",
      '  await bot.leave();',
      '});',
      '',
    ].join('\n'));
    const run = await confab(['bot', 'run', script, '--server', `127.0.0.1:${lab.port}`, '--config', writeConfig()]);
    assert.is(run.code, 0, run.stderr);
    await alice.waitForMessage('polls', (m) => m.poll?.question === 'Coffee?' && m.poll.createdBy.name === 'asker');
  } finally {
    await lab.close();
  }
});

test.run();
