/**
 * `confab join` stays in the room when the server dies (kill -9) or stops (SIGTERM) and comes back on the
 * same port and data directory: it joins again by itself, shows the conversation, and what was typed while
 * the server was away arrives exactly once; so does what an SDK client sent meanwhile.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import { waitFor } from '../../core/testing.js';
import { chatClient } from '../../plugins/chat/client.js';
import type { ChatMessage } from '../../plugins/chat/protocol.js';
import { CLI, ServeProcess, Terminal } from './harness.js';

let dir = '';
let serve: ServeProcess;
let terminal: Terminal | undefined;
let bob: ConfabClient | undefined;

test.before.each(async () => {
  dir = mkdtempSync(join(tmpdir(), 'confab-rejoin-'));
  serve = new ServeProcess(['--port', '0', '--data-dir', join(dir, 'data'), '--log-level', 'warn'], dir);
  await serve.start();
});
test.after.each(async () => {
  terminal?.close();
  await bob?.close();
  await serve.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Bob: an SDK client in room `lab`; `texts()` is its conversation (history after a rejoin, and since). */
async function startBob(): Promise<{ texts(): string[]; send(text: string): Promise<ChatMessage> }> {
  bob = new ConfabClient({ url: `tcp://127.0.0.1:${serve.port}`, name: 'bob', room: 'lab', backoff: { initialMs: 50, maxMs: 500 } });
  const chat = bob.use(chatClient());
  await bob.connect();
  return { texts: () => chat.messages.map((m) => `${m.from.name}: ${m.text}`), send: (text) => chat.send(text) };
}

function openAlice(): Terminal {
  terminal = Terminal.open(`${process.execPath} ${CLI} join --server http://127.0.0.1:${serve.port} --room lab --name alice 2> ${join(dir, 'stderr.txt')}`, { columns: 100, rows: 30, cwd: dir });
  return terminal;
}

for (const [how, signal] of [['kill -9', 'SIGKILL'], ['a clean stop (SIGTERM)', 'SIGTERM']] as const) {
  test(`after ${how} and a restart, the terminal client and an SDK client are back in the room, and their lines typed meanwhile arrive once`, async () => {
    const chatBob = await startBob();
    const alice = openAlice();
    await alice.waitFor(/alice · connected/, 'alice to join');
    alice.line('before the restart');
    await waitFor(() => chatBob.texts().includes('alice: before the restart'), 'bob to hear alice', 5000);

    await serve.stop(signal);
    await alice.waitFor(/alice · re(connecting|joining) \(attempt \d+\)/, 'alice to notice');
    assert.ok(alice.running, 'the terminal client did not quit');
    alice.line('typed while the server was down');
    await alice.waitFor(/alice: typed while the server was down\s+… sending/, 'the line shown as pending');
    const fromBob = chatBob.send('bob, also while it was down');

    await serve.start();
    let text = await alice.waitFor(/joined lab again as alice/, 'alice to rejoin');
    await fromBob;
    await waitFor(() => chatBob.texts().includes('alice: typed while the server was down'), 'bob to get alice’s pending line', 10_000);
    text = await alice.waitFor(/bob: bob, also while it was down/, 'alice to get bob’s line');
    text = await alice.waitFor(/^(?![\s\S]*sending)/, 'alice’s line acknowledged');
    assert.match(text, /alice: before the restart/, 'the conversation is still on screen');
    assert.match(text, /alice · connected/);
    assert.match(text, /bob/, 'bob in the participants again');

    alice.line('after the restart');
    await waitFor(() => chatBob.texts().includes('alice: after the restart'), 'chat to go on', 5000);
    assert.is(chatBob.texts().filter((line) => line === 'alice: typed while the server was down').length, 1, 'exactly once');
    assert.is(occurrences(alice.screen(), 'typed while the server was down'), 1, 'shown once');
    assert.is(occurrences(alice.screen(), 'bob, also while it was down'), 1, 'shown once');
  });
}

function occurrences(text: string, what: string): number {
  return text.split(what).length - 1;
}

test.run();
