/**
 * `confab join` in a real terminal (tmux), against a real server, asserting on what the user sees.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCommand } from '../../cli/join/commands.js';
import { JoinState } from '../../cli/join/state.js';
import { reason } from '../../cli/join/transfers.js';
import { ConfabError } from '../../core/errors.js';
import { ConfabClient } from '../../core/client/node.js';
import { startTestServer, waitFor, type TestServer } from '../../core/testing.js';
import { audioClient } from '../../plugins/audio-mix/client.js';
import { audioMix } from '../../plugins/audio-mix/server.js';
import { chatClient } from '../../plugins/chat/client.js';
import type { ChatMessage } from '../../plugins/chat/protocol.js';
import { chat } from '../../plugins/chat/server.js';
import { filesClient, type FileInfo } from '../../plugins/files/client-node.js';
import { files } from '../../plugins/files/server.js';
import { schedulerClient } from '../../plugins/scheduler/client.js';
import { scheduler } from '../../plugins/scheduler/server.js';
import { videoRelay } from '../../plugins/video-relay/server.js';
import { CLI, Terminal } from './harness.js';

test('parseCommand() tells text, private messages, uploads, downloads and mistakes apart', () => {
  assert.equal(parseCommand('hello'), { kind: 'say', text: 'hello' });
  assert.equal(parseCommand('//not a command'), { kind: 'say', text: '/not a command' });
  assert.equal(parseCommand('/msg bob hi there'), { kind: 'msg', to: 'bob', text: 'hi there' });
  assert.equal(parseCommand('/upload my notes.txt'), { kind: 'upload', path: 'my notes.txt' });
  assert.equal(parseCommand('/upload notes.txt @bob'), { kind: 'upload', path: 'notes.txt', to: 'bob' });
  assert.equal(parseCommand('/download 2 /tmp'), { kind: 'download', index: 2, path: '/tmp' });
  assert.is(parseCommand('   '), undefined);
  for (const bad of ['/msg bob', '/download zero', '/download 0', '/upload', '/frobnicate', '/mute']) assert.is(parseCommand(bad)?.kind, 'error', bad);
});

test('JoinState counts changes, finds participants by exact name or unique prefix, and knows a microphone only when told', () => {
  const state = new JoinState();
  state.addParticipant('a', 'alice', true);
  state.addParticipant('b', 'bob');
  state.addParticipant('c', 'bobby');
  const before = state.changed;
  state.setMuted('b', true);
  state.setMuted('b', true);
  assert.is(state.changed, before + 1, 'no change, no redraw');
  state.setMuted('nobody', true);
  assert.is(state.findByName('bob')?.id, 'b');
  assert.is(state.findByName('ali')?.id, 'a');
  assert.is(state.findByName('bo'), undefined, 'ambiguous prefix');
  assert.equal(state.sortedParticipants().map((p) => p.name), ['alice', 'bob', 'bobby']);
  state.setLevels({ b: -20, c: -90 });
  assert.is(state.participants.get('b')!.level, -20);
  assert.is(state.participants.get('c')!.level, undefined);
  assert.is(state.participants.get('a')!.mic, undefined, 'no microphone heard of');
  assert.is(state.participants.get('b')!.mic, 'muted');
});

test('JoinState keeps each message once, in time order, with history merged in, and counts unread ones while out of view', () => {
  const state = new JoinState();
  const message = (id: string, ts: number, from = 'b'): ChatMessage => ({ id, from: { id: from, name: from }, text: id, ts });
  state.addMessage(message('m3', 3), true);
  state.addHistory([message('m1', 1), message('m2', 2), message('m3', 3)]);
  state.addMessage(message('m4', 4), false);
  state.addMessage(message('m5', 5, 'a'), false, 'a');
  state.addMessage(message('m4', 4), false);
  assert.equal(state.messages.map((m) => m.id), ['m1', 'm2', 'm3', 'm4', 'm5']);
  assert.is(state.unread, 1, 'one from someone else while out of view');
  assert.is(state.unreadFrom, 'm4');
  state.markRead();
  assert.is(state.unread, 0);
  assert.is(state.unreadFrom, 'm4', 'the marker stays until this client sends');
  state.addPending('hi');
  assert.is(state.unreadFrom, undefined);
});

test('reason() words a transfer error about the file, not the files client\'s working .part file', () => {
  const error = new ConfabError('FILES_IO_FAILED', "cannot open /home/a/notes.txt.0123456789ab.part: EACCES: permission denied, open '/home/a/notes.txt.0123456789ab.part'");
  assert.is(reason(error), 'cannot open /home/a/notes.txt: EACCES: permission denied (FILES_IO_FAILED)');
});

let server: TestServer;
let dir = '';
const terminals: Terminal[] = [];
const clients: ConfabClient[] = [];

test.before(async () => {
  server = await startTestServer({ plugins: [chat(), files(), videoRelay(), audioMix({ opus: false }), scheduler()] });
});
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'confab-join-'));
});
test.after.each(async () => {
  for (const terminal of terminals.splice(0)) terminal.close();
  await Promise.all(clients.splice(0).map((client) => client.close()));
  rmSync(dir, { recursive: true, force: true });
});
test.after(async () => {
  await server.close();
});

/** `confab join` in a terminal of the given size, with its stderr in the test's directory. */
function openJoin(args: string, size = { columns: 100, rows: 30 }): Terminal {
  const terminal = Terminal.open(`${process.execPath} ${CLI} join --server 127.0.0.1:${server.port} ${args} 2> ${join(dir, 'stderr.txt')}`, { ...size, cwd: dir });
  terminals.push(terminal);
  return terminal;
}

/** An SDK participant with chat (recording what it hears), audio, files and scheduler halves. */
async function participant(name: string, room: string) {
  const client = new ConfabClient({ url: `tcp://127.0.0.1:${server.port}`, name, room });
  clients.push(client);
  const chatApi = client.use(chatClient());
  const audio = client.use(audioClient({ codec: 'pcm', listen: false, opus: null }));
  const filesApi = client.use(filesClient());
  const schedule = client.use(schedulerClient());
  const heard: ChatMessage[] = [];
  chatApi.on('message', (m) => heard.push(m));
  await client.connect();
  return { client, chat: chatApi, audio, files: filesApi, schedule, heard, texts: () => heard.map((m) => m.text) };
}

test('confab join: chat both ways, private messages, the name the server gave (alice_1) in the title, marks, files and meetings with the year', async () => {
  const bob = await participant('bob', 'lab');
  const firstAlice = await participant('alice', 'lab');
  const start = new Date(Date.now() + 3_600_000);
  await bob.schedule.create({ title: 'Design review', room: 'lab', start: start.toISOString(), durationMinutes: 30 });
  const bobSaw: FileInfo[] = [];
  bob.files.on('file', (f) => bobSaw.push(f));

  const alice = openJoin('--room lab --name alice');
  let text = await alice.waitFor(/Confab · lab · alice_1 · connected/, 'the header with the name the server gave');
  text = await alice.waitFor(/Design review/, 'the upcoming meeting');
  assert.match(text, new RegExp(`\\w{3} ${start.getDate()} \\w{3} ${start.getFullYear()} \\d\\d:\\d\\d`), 'the meeting shows its year');
  assert.match(text, /alice_1 \(you\)\s*│/, 'no microphone mark for the terminal user');
  assert.match(text, /bob/);

  alice.line('hello from the terminal');
  await waitFor(() => bob.heard.some((m) => m.text === 'hello from the terminal' && m.from.name === 'alice_1'), 'bob to get the chat', 5000);
  await bob.chat.send('hi alice, from bob');
  await alice.waitFor(/bob: hi alice, from bob/, 'bob’s message on screen');
  alice.line('/msg bob just for you');
  await waitFor(() => bob.heard.some((m) => m.text === 'just for you' && m.to?.name === 'bob'), 'the private message', 5000);
  await alice.waitFor(/you → bob \(private\): just for you/, 'the private message on screen');
  bob.audio.setMuted(true);
  await alice.waitFor(/bob\s+✗mic/, 'bob muted in the list');

  writeFileSync(join(dir, 'agenda.txt'), 'one\ntwo\n');
  alice.line('/upload agenda.txt');
  await waitFor(() => bobSaw.some((f) => f.name === 'agenda.txt'), 'bob to see the upload', 10_000);
  await alice.waitFor(/▲ agenda\.txt done/, 'the finished upload');
  await alice.waitFor(/shared agenda\.txt \(8 B\)/, 'the notice');
  await firstAlice.client.close();
});

test('no input is lost: a pasted block and 200 lines typed as fast as tmux sends them all arrive, in order', async () => {
  const bob = await participant('bob', 'fast');
  const alice = openJoin('--room fast --name alice');
  await alice.waitFor(/alice · connected/, 'the UI to connect');
  alice.paste('first pasted line\nsecond pasted line\nthird pasted line\n');
  const typed = Array.from({ length: 200 }, (_, i) => `line ${i + 1} of 200`);
  for (const text of typed) alice.line(text);
  const expected = ['first pasted line', 'second pasted line', 'third pasted line', ...typed];
  await waitFor(() => bob.heard.length >= expected.length, `all ${expected.length} lines (bob has ${bob.heard.length})`, 30_000);
  assert.equal(bob.texts(), expected);
  await alice.waitFor(/alice: line 200 of 200/, 'the last line on screen');
  await alice.waitFor(/^(?![\s\S]*sending)/, 'every line acknowledged (none pending)');
});

test('line editing: ←→, Home/End, Ctrl-A/E/U/W/K/Y, history on ↑↓, and Tab completing names and /commands', async () => {
  const bob = await participant('bobby', 'edit');
  const alice = openJoin('--room edit --name alice');
  await alice.waitFor(/bobby/, 'bobby in the list');
  alice.type('world');
  alice.keys('Home');
  alice.type('hello ');
  alice.keys('End');
  alice.type('!!');
  alice.keys('Left', 'BSpace', 'Enter');
  await waitFor(() => bob.texts().includes('hello world!'), 'the edited line', 5000);

  alice.type('one two three');
  alice.keys('C-w');
  alice.type('3');
  alice.keys('C-a', 'C-k');
  alice.type('gone');
  alice.keys('C-u');
  alice.type('kept ');
  alice.keys('C-y', 'C-e', 'Enter');
  await waitFor(() => bob.texts().includes('kept gone'), 'kill and yank', 5000);

  alice.keys('Up', 'Up', 'Enter');
  await waitFor(() => bob.texts().filter((t) => t === 'hello world!').length === 2, 'the line from the history', 5000);

  alice.type('hi bo');
  alice.keys('Tab');
  alice.type('and you');
  alice.keys('Enter');
  await waitFor(() => bob.texts().includes('hi bobby and you'), 'a name completed', 5000);
  alice.type('/ms');
  alice.keys('Tab');
  alice.type('bob');
  alice.keys('Tab');
  alice.type('psst');
  alice.keys('Enter');
  await waitFor(() => bob.heard.some((m) => m.text === 'psst' && m.to !== undefined), 'a command and a name completed', 5000);
});

test('the layout adapts: at 60×20 the chat fills the width and F3 shows each panel; at 80×24 the chat keeps 50 columns; 22 files scroll with the newest in view', async () => {
  const bob = await participant('bob', 'small');
  for (let i = 1; i <= 22; i++) {
    writeFileSync(join(dir, `file-${String(i).padStart(2, '0')}.txt`), `file ${i}\n`);
    await bob.files.upload(join(dir, `file-${String(i).padStart(2, '0')}.txt`)).done;
  }
  const narrow = openJoin('--room small --name alice', { columns: 60, rows: 20 });
  let text = await narrow.waitFor(/Chat · F3: Participants/, 'the chat with the panel hint');
  const longest = text.split('\n').find((row) => row.startsWith('│'))!;
  assert.is(Array.from(longest).length, 60, 'the chat box is as wide as the terminal');
  await bob.chat.send('a line wide enough to wrap at sixty columns, so it takes two rows of the chat');
  text = await narrow.waitFor(/two rows of the chat/, 'the wrapped line');
  narrow.keys('F3');
  text = await narrow.waitFor(/Participants · F3: Files/, 'the participants');
  assert.match(text, /alice \(you\)/);
  narrow.keys('F3');
  text = await narrow.waitFor(/Files · F3: Upcoming meetings/, 'the files');
  assert.match(text, /22\. file-22\.txt/, 'the newest file in view');
  assert.match(text, /↑ \d+ more \(PgUp\)/, 'the older ones are scrolled away');
  narrow.keys('PageUp', 'PageUp', 'PageUp', 'PageUp', 'PageUp', 'PageUp');
  text = await narrow.waitFor(/ 1\. file-01\.txt/, 'PgUp to the oldest file');
  assert.match(text, /↓ \d+ more \(PgDn\)/);

  const wide = openJoin('--room small --name carol', { columns: 80, rows: 24 });
  text = await wide.waitFor(/▸ Chat/, 'the wide layout');
  const chatRow = text.split('\n')[1]!;
  assert.ok(chatRow.indexOf('┐') >= 50, `the chat column is at least 50 wide:\n${text}`);
  assert.match(text, /Participants/);
  await wide.waitFor(/22\. file-22\.txt/, 'the newest file in view in the side column');
});

test('Ctrl-C asks before leaving: another key stays, y leaves with BYE', async () => {
  const bob = await participant('bob', 'quit');
  const left: string[] = [];
  bob.client.on('peerLeft', (peer) => left.push(`${peer.name}:${peer.reason}`));
  const alice = openJoin('--room quit --name alice');
  await alice.waitFor(/alice · connected/, 'the UI to connect');
  alice.keys('C-c');
  await alice.waitFor(/Leave the room\? y: leave · any other key: stay/, 'the question');
  alice.keys('n');
  await alice.waitFor(/^(?![\s\S]*Leave the room)/, 'the question gone');
  assert.is(bob.client.peers.size, 1, 'still in the room');
  alice.type('still here');
  alice.keys('Enter');
  await waitFor(() => bob.texts().includes('still here'), 'typing goes on', 5000);
  alice.keys('C-c');
  await alice.waitFor(/Leave the room\?/, 'the question again');
  alice.keys('y');
  await waitFor(() => left.length === 1, 'alice to leave', 5000);
  assert.equal(left, ['alice:bye']);
  await waitFor(() => !alice.running, 'the command to end', 5000);
});

test('every error goes to the one error line, in words: an unknown command, a missing upload (~ expanded), an unknown file number', async () => {
  const alice = openJoin('--room errors --name alice');
  await alice.waitFor(/alice · connected/, 'the UI to connect');
  alice.line('/frobnicate');
  let text = await alice.waitFor(/✗ \d\d:\d\d unknown command \/frobnicate/, 'the unknown command');
  alice.line('/upload ~/no-such-file-here.txt');
  text = await alice.waitFor(/could not share no-such-file-here\.txt/, 'the failed upload');
  assert.match(text, /✗ \d\d:\d\d \[\+1 earlier\] could not share/, 'the earlier error is counted');
  assert.not.match(text, /~\/no-such/, '~ was expanded');
  const errorRow = text.split('\n').find((row) => row.includes('could not share'))!;
  assert.not.match(errorRow, /^│/, 'in the error line, not in the chat');
  alice.line('/download 7');
  await alice.waitFor(/there is no file 7/, 'the unknown file');
  alice.keys('Escape');
  text = await alice.waitFor(/^(?![\s\S]*✗)/, 'Escape dismisses the errors');
});

test('confab join prints a failure once, in words: an empty --name, a port that is not Confab, a refused join', async () => {
  const stderr = () => readFileSync(join(dir, 'stderr.txt'), 'utf8');
  const noName = openJoin('--room x --name " "');
  await waitFor(() => !noName.running, 'the command to end', 15_000);
  assert.is(stderr(), 'confab join: --name must not be empty; give a name like --name alice\n');

  const web = createHttpServer((_request, response) => response.end('not confab'));
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  try {
    const port = (web.address() as { port: number }).port;
    const wrongPort = Terminal.open(`${process.execPath} ${CLI} join --server http://127.0.0.1:${port} --name alice 2> ${join(dir, 'stderr.txt')}`, { columns: 80, rows: 24, cwd: dir });
    terminals.push(wrongPort);
    await waitFor(() => !wrongPort.running, 'the command to end', 15_000);
    const lines = stderr().trim().split('\n');
    assert.is(lines.length, 1, stderr());
    assert.match(lines[0]!, new RegExp(`^confab: NOT_A_CONFAB_SERVER: 127\\.0\\.0\\.1:${port} answered in HTTP`));
  } finally {
    web.closeAllConnections();
    await new Promise((resolve) => web.close(resolve));
  }
});

test('while scrolled back, new messages are unread: counted in the header and marked in the chat', async () => {
  const bob = await participant('bob', 'unread');
  for (let i = 1; i <= 30; i++) await bob.chat.send(`old message ${i}`);
  const alice = openJoin('--room unread --name alice', { columns: 80, rows: 24 });
  await alice.waitFor(/old message 30/, 'the history');
  alice.keys('PageUp');
  await alice.waitFor(/↓ \d+ more/, 'scrolled back');
  await bob.chat.send('new while away 1');
  await bob.chat.send('new while away 2');
  await alice.waitFor(/alice · 2 unread/, 'the unread count in the header');
  alice.keys('PageDown', 'PageDown', 'PageDown');
  const text = await alice.waitFor(/new while away 2/, 'the end of the chat');
  const rows = text.split('\n');
  const marker = rows.findIndex((row) => row.includes('──── new messages ────'));
  assert.ok(marker > 0, `a marker:\n${text}`);
  assert.match(rows[marker + 1]!, /bob: new while away 1/, 'the marker is just before the first unread message');
  await alice.waitFor(/alice · connected/, 'read once in view: no count in the header');
});

test.run();
