/**
 * Plugins' terminal extensions in `confab join` (cli/join/extensions.ts), in a real terminal (tmux): the
 * polls example's panel and its /poll, /vote and /closepoll, brought by `--config`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCommand, splitWords } from '../../cli/join/commands.js';
import { computeLayout, thirdSlot } from '../../cli/join/layout.js';
import { startTestServer, type TestServer } from '../../core/testing.js';
import { chat } from '../../plugins/chat/server.js';
import { pollsClient } from '../../plugins/examples/polls/client.js';
import { polls } from '../../plugins/examples/polls/server.js';
import { pollLines } from '../../plugins/examples/polls/terminal.js';
import { CLI, ROOT, Terminal } from './harness.js';

test('parseCommand() hands a plugin\'s command its words, quoted ones together; built-ins come first', () => {
  assert.equal(parseCommand('/poll "Lunch today?" pizza "soup of the day"', ['poll']), { kind: 'plugin', name: 'poll', args: ['Lunch today?', 'pizza', 'soup of the day'] });
  assert.equal(parseCommand('/VOTE p1 2', ['vote']), { kind: 'plugin', name: 'vote', args: ['p1', '2'] });
  assert.is(parseCommand('/poll x', [])?.kind, 'error', 'unknown without the plugin');
  assert.is(parseCommand('/help', ['help'])?.kind, 'help');
  assert.equal(splitWords('"unclosed quote runs on'), ['unclosed quote runs on']);
  assert.equal(splitWords('  a  ""  b '), ['a', '', 'b']);
});

test('computeLayout() gives the side column\'s third slot to the plugin panel focused last', () => {
  const wide = computeLayout(100, 30, 'polls', 'polls');
  assert.equal(wide.panels.polls, computeLayout(100, 30, 'chat').panels.meetings);
  assert.is(wide.panels.meetings, undefined);
  assert.is(thirdSlot('polls', 'meetings'), 'polls');
  assert.is(thirdSlot('chat', 'polls'), 'polls', 'focusing the chat keeps the polls in view');
  assert.equal(Object.keys(computeLayout(60, 20, 'polls', 'meetings').panels), ['polls'], 'narrow: the focused panel only');
});

test('pollLines() shows each poll with its options numbered for /vote, counts, bars and the own vote', () => {
  const poll = { id: 'p1', question: 'Lunch?', options: ['pizza', 'soup'], counts: [1, 0], total: 1, open: true, createdBy: { id: 'a', name: 'alice' }, createdAt: 0 };
  assert.equal(pollLines([poll], new Map([['p1', 0]]), 40), ['p1 Lunch? · open · 1 vote', ' ✓1 pizza  1 ██████████', '  2 soup   0']);
  assert.equal(pollLines([], new Map(), 40), ['no polls yet; /poll "Question?" yes no']);
});

let lab: TestServer;
let dir = '';
const terminals: Terminal[] = [];

test.before(async () => {
  lab = await startTestServer({ plugins: [chat(), polls()] });
  mkdirSync(join(ROOT, '.confab'), { recursive: true });
  dir = mkdtempSync(join(ROOT, '.confab', 'join-extensions-'));
  writeFileSync(join(dir, 'plugins.config.ts'), [
    "import { defineConfig } from '../../core/config.js';",
    "import { polls } from '../../plugins/examples/polls/server.js';",
    'export default defineConfig({ plugins: [polls()] });',
    '',
  ].join('\n'));
});
test.after(async () => {
  for (const terminal of terminals.splice(0)) terminal.close();
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('confab join --config: the Polls panel (F3) follows the room\'s polls live; /poll, /vote, /closepoll, Tab and /help know them', async () => {
  const bob = await lab.connect('bob', { room: 'lab', plugins: { polls: pollsClient() } });
  const alice = Terminal.open(`${process.execPath} ${CLI} join --server 127.0.0.1:${lab.port} --room lab --name alice --config plugins.config.ts 2> stderr.txt`,
    { columns: 130, rows: 40, cwd: dir });
  terminals.push(alice);
  await alice.waitFor(/alice · connected/, 'the UI to connect');

  alice.line('/poll "Lunch today?" pizza soup');
  const created = await bob.waitForMessage('polls', (m) => m.poll?.question === 'Lunch today?');
  assert.equal(created.poll.options, ['pizza', 'soup']);
  await alice.waitFor(/poll p1 started: \/vote p1 N/, 'the notice');

  alice.keys('F3', 'F3', 'F3', 'F3');
  await alice.waitFor(/▸ Polls[\s\S]*p1 Lunch today\? · open · 0 votes/, 'the polls panel in the side column');
  await bob.polls.vote('p1', 1);
  await alice.waitFor(/p1 Lunch today\? · open · 1 vote\b[\s\S]*2 soup\s+1 █/, 'bob\'s vote, live');

  alice.type('/vo');
  alice.keys('Tab');
  alice.type('p1 1');
  alice.keys('Enter');
  await alice.waitFor(/2 votes[\s\S]*✓1 pizza\s+1/, 'alice\'s own vote marked');
  assert.is(bob.polls.polls.get('p1')!.total, 2);

  alice.line('/vote p9 1');
  await alice.waitFor(/\/vote: no poll "p9" here/, 'a coded refusal in the error line');
  alice.keys('Escape');
  alice.line('/vote p1 1');
  await alice.waitFor(/\/vote: this session already voted in this poll/, 'the server\'s refusal');

  await bob.polls.create('Tea?', ['green', 'black']);
  await alice.waitFor(/bob asks "Tea\?": \/vote p2 N/, 'a notice for bob\'s poll');
  alice.line('/closepoll p1');
  await bob.waitForMessage('polls', (m) => m.poll?.id === 'p1' && m.poll.open === false);
  await alice.waitFor(/p1 Lunch today\? · closed · 2 votes/, 'the closed poll');

  alice.keys('F3');
  alice.line('/help');
  await alice.waitFor(/\/poll "Question\?" OPTION OPTION… start a poll/, '/help lists the plugin\'s commands');
  await alice.waitFor(/─ Polls ─/, 'the polls stay in the third slot after the focus moves on');
});

test.run();
