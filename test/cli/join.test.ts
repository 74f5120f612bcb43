import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCommand } from '../../cli/join/commands.js';
import { JoinState } from '../../cli/join/state.js';
import { ConfabClient } from '../../core/client/node.js';
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
import { startServer, waitFor, type TestServer } from '../helpers/server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'cli/confab.mjs');
// A tmux server of this test's own, so no one else's sessions are touched.
const SOCKET = `confab-join-test-${process.pid}`;
const SESSION = 'join';

function tmux(...args: string[]): string {
  const result = spawnSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tmux ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

function screenText(): string {
  return tmux('capture-pane', '-p', '-t', SESSION);
}

/** Types text into the terminal client, then Enter. */
function type(text: string): void {
  tmux('send-keys', '-t', SESSION, '-l', text);
  tmux('send-keys', '-t', SESSION, 'Enter');
}

async function waitForScreen(pattern: RegExp, what: string, timeoutMs = 15_000): Promise<string> {
  let text = '';
  try {
    await waitFor(() => pattern.test((text = screenText())), timeoutMs, what);
  } catch (error) {
    throw new Error(`${(error as Error).message}; the screen shows:\n${text}`);
  }
  return text;
}

test('parseCommand() tells text, private messages, uploads, downloads and mistakes apart', () => {
  assert.equal(parseCommand('hello'), { kind: 'say', text: 'hello' });
  assert.equal(parseCommand('//not a command'), { kind: 'say', text: '/not a command' });
  assert.equal(parseCommand('/msg bob hi there'), { kind: 'msg', to: 'bob', text: 'hi there' });
  assert.equal(parseCommand('/upload my notes.txt'), { kind: 'upload', path: 'my notes.txt' });
  assert.equal(parseCommand('/upload notes.txt @bob'), { kind: 'upload', path: 'notes.txt', to: 'bob' });
  assert.equal(parseCommand('/download 2 /tmp'), { kind: 'download', index: 2, path: '/tmp' });
  assert.is(parseCommand('   '), undefined);
  for (const bad of ['/msg bob', '/download zero', '/download 0', '/upload', '/frobnicate']) assert.is(parseCommand(bad)?.kind, 'error', bad);
});

test('JoinState counts changes, and finds participants by exact name or unique prefix', () => {
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
});

let server: TestServer;
let dir = '';

test.before(async () => {
  server = await startServer([chat(), files(), videoRelay(), audioMix({ opus: false }), scheduler()]);
  dir = mkdtempSync(join(tmpdir(), 'confab-join-'));
});
test.after(async () => {
  spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('confab join in a real terminal (tmux): sends chat, shows another participant and their messages, private ones, mute, files and meetings', async () => {
  const url = `tcp://127.0.0.1:${server.port}`;
  const bob = new ConfabClient({ url, name: 'bob', room: 'lab' });
  const bobChat = bob.use(chatClient());
  const bobAudio = bob.use(audioClient({ codec: 'pcm', listen: false, opus: null }));
  const bobFiles = bob.use(filesClient());
  const bobSchedule = bob.use(schedulerClient());
  const heard: ChatMessage[] = [];
  bobChat.on('message', (m) => heard.push(m));
  const bobSaw: FileInfo[] = [];
  bobFiles.on('file', (f) => bobSaw.push(f));
  await bob.connect();
  await bobSchedule.create({ title: 'Design review', room: 'lab', start: new Date(Date.now() + 3_600_000).toISOString(), durationMinutes: 30 });

  tmux('new-session', '-d', '-s', SESSION, '-x', '160', '-y', '45', '-c', dir,
    `${process.execPath} ${CLI} join --server 127.0.0.1:${server.port} --room lab --name alice 2> ${join(dir, 'stderr.txt')}`);
  await waitForScreen(/connected as alice/, 'the UI to connect');
  await waitFor(() => bob.peers.size === 1, 5000, 'alice to join');
  let text = await waitForScreen(/Design review/, 'the upcoming meeting');
  assert.match(text, /bob/, 'bob is in the participants list');
  assert.match(text, /F10\/Ctrl-C quit/, 'the help line');

  type('hello from the terminal');
  await waitFor(() => heard.some((m) => m.text === 'hello from the terminal' && m.from.name === 'alice'), 5000, 'bob to get the chat');

  await bobChat.send('hi alice, from bob');
  await waitForScreen(/bob: hi alice, from bob/, 'bob’s message on screen');

  type('/msg bob just for you');
  await waitFor(() => heard.some((m) => m.text === 'just for you' && m.to?.name === 'bob'), 5000, 'the private message');
  await waitForScreen(/you → bob \(private\): just for you/, 'the private message on screen');

  bobAudio.setMuted(true);
  await waitForScreen(/bob\s+✗mic/, 'bob muted in the list');

  writeFileSync(join(dir, 'agenda.txt'), 'one\ntwo\n');
  type('/upload agenda.txt');
  await waitFor(() => bobSaw.some((f) => f.name === 'agenda.txt'), 10_000, 'bob to see the upload');
  text = await waitForScreen(/agenda\.txt \[#+\] done/, 'the finished upload bar');

  type('/frobnicate');
  await waitForScreen(/unknown command \/frobnicate/, 'the error notice');

  tmux('send-keys', '-t', SESSION, 'F10');
  await waitFor(() => bob.peers.size === 0, 5000, 'alice to leave on F10');
  await bob.close();
});

test.run();
