import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadBotScript } from '../../bots/load-script.js';
import { defineBot, runBot } from '../../bots/runtime.js';
import { ConfabClient } from '../../core/client/node.js';
import { isConfabError } from '../../core/errors.js';
import { MediaCodec } from '../../core/media.js';
import { vp8FrameKind } from '../../core/vp8.js';
import { chatClient, type ChatApi } from '../../plugins/chat/client.js';
import type { ChatMessage } from '../../plugins/chat/protocol.js';
import { filesClient, type FileInfo } from '../../plugins/files/client-node.js';
import { chat } from '../../plugins/chat/server.js';
import { files } from '../../plugins/files/server.js';
import { videoClient } from '../../plugins/video-relay/client.js';
import { videoRelay } from '../../plugins/video-relay/server.js';
import { startTestServer, waitFor, type TestServer } from '../../core/testing.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
let server: TestServer;
let dir = '';

test.before.each(async () => {
  server = await startTestServer({ plugins: [chat(), files()] });
  dir = mkdtempSync(join(tmpdir(), 'confab-bot-'));
});
test.after.each(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Person {
  client: ConfabClient;
  chat: ChatApi;
  heard: ChatMessage[];
}

async function person(name: string, room = 'lab'): Promise<Person> {
  const client = new ConfabClient({ url: `tcp://127.0.0.1:${server.port}`, name, room });
  const api = client.use(chatClient());
  const heard: ChatMessage[] = [];
  api.on('message', (m) => heard.push(m));
  await client.connect();
  return { client, chat: api, heard };
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isConfabError(error), `expected a ConfabError, got ${String(error)}`);
    assert.is((error as { code: string }).code, code, (error as Error).message);
    return error as Error;
  }
  throw new Error(`expected ${code}, but it resolved`);
}

test('the greeter example, compiled with esbuild, welcomes a joiner, answers !time privately, and leaves on the signal', async () => {
  const greeter = await loadBotScript(join(ROOT, 'bots/examples/greeter.ts'));
  const stop = new AbortController();
  const bob = await person('bob');
  const running = runBot(greeter, { server: `127.0.0.1:${server.port}`, room: 'lab', name: 'greeter', signal: stop.signal });
  await waitFor(() => bob.heard.some((m) => m.text.startsWith("Hello! I'm greeter")), 'the greeter to join', 5000);
  const alice = await person('alice');
  await waitFor(() => alice.heard.some((m) => m.text === 'Welcome to lab, alice!'), 'the welcome', 5000);
  const greeterId = [...alice.client.peers.values()].find((p) => p.name === 'greeter')!.id;
  await alice.chat.send('!time', { to: greeterId });
  await waitFor(() => alice.heard.some((m) => m.text.startsWith('It is ')), 'the time', 5000);
  const answer = alice.heard.find((m) => m.text.startsWith('It is '))!;
  assert.is(answer.to?.id, alice.client.self!.id, 'a private question gets a private answer');
  stop.abort();
  const result = await running;
  assert.is(result.reason, 'signal');
  await waitFor(() => alice.client.peers.size === 1, 'the greeter to leave', 3000);
  assert.ok(bob.heard.some((m) => m.text === 'Welcome to lab, alice!'));
  assert.not.ok(bob.heard.some((m) => m.text.startsWith('It is ')), 'bob did not see the private answer');
  await alice.client.close();
  await bob.client.close();
});

test('runBot() reports a script that throws as failed with BOT_SCRIPT_FAILED, and the bot leaves the room', async () => {
  const alice = await person('alice');
  const result = await runBot(defineBot(async (bot) => {
    await bot.say('about to fail');
    throw new Error('boom');
  }), { server: `127.0.0.1:${server.port}`, room: 'lab', name: 'faulty' });
  assert.is(result.reason, 'failed');
  assert.ok(isConfabError(result.error) && result.error.code === 'BOT_SCRIPT_FAILED' && /boom/.test(result.error.message));
  await waitFor(() => alice.client.peers.size === 0, 'the faulty bot to leave', 3000);
  assert.ok(alice.heard.some((m) => m.text === 'about to fail'));
  await alice.client.close();
});

test('nextMessage() waits for a matching message, times out with BOT_TIMEOUT, and sleep() rejects once the bot left', async () => {
  const alice = await person('alice');
  let timeout: Error | undefined;
  let afterLeave: Error | undefined;
  const result = runBot(defineBot(async (bot) => {
    timeout = await expectCode(bot.nextMessage(() => true, 50), 'BOT_TIMEOUT');
    await bot.say('ask me');
    const answer = await bot.nextMessage((m) => m.text === '42', 5000);
    await bot.say(`got ${answer.text} from ${answer.from.name}`);
    void bot.leave();
    afterLeave = await expectCode(bot.sleep(10_000), 'BOT_LEFT');
  }), { server: `127.0.0.1:${server.port}`, room: 'lab', name: 'asker' });
  await waitFor(() => alice.heard.some((m) => m.text === 'ask me'), 'a condition', 5000);
  await alice.chat.send('41');
  await alice.chat.send('42');
  assert.is((await result).reason, 'left');
  assert.ok(timeout && afterLeave);
  assert.ok(alice.heard.some((m) => m.text === 'got 42 from alice'));
  await alice.client.close();
});

test('loadBotScript() refuses a missing file, a script that does not compile, and one without a defineBot export', async () => {
  await expectCode(loadBotScript(join(dir, 'nope.ts')), 'BOT_SCRIPT_INVALID');
  writeFileSync(join(dir, 'broken.ts'), 'export default defineBot(async (bot) => {\n');
  const broken = await expectCode(loadBotScript(join(dir, 'broken.ts')), 'BOT_SCRIPT_INVALID');
  assert.match(broken.message, /broken\.ts:2/);
  writeFileSync(join(dir, 'plain.ts'), 'export default async function main() {}\n');
  await expectCode(loadBotScript(join(dir, 'plain.ts')), 'BOT_SCRIPT_INVALID');
  writeFileSync(join(dir, 'throws.ts'), 'throw new Error("at load");\n');
  const threw = await expectCode(loadBotScript(join(dir, 'throws.ts')), 'BOT_SCRIPT_INVALID');
  assert.match(threw.message, /at load/);
});

test('confab bot run compiles a script outside the repo that imports confab/bot, runs it with its -- arguments, and exits 0 when it leaves', async () => {
  const script = join(dir, 'hello.ts');
  writeFileSync(script, `import { defineBot } from 'confab/bot';
export default defineBot(async (bot) => {
  await bot.say('hello from ' + bot.self.name + ' with ' + bot.args.greeting);
  await bot.leave();
});
`);
  const alice = await person('alice');
  const child = spawn(process.execPath, [join(ROOT, 'cli/confab.mjs'), 'bot', 'run', script, '--server', `127.0.0.1:${server.port}`, '--room', 'lab', '--', '--greeting=hi'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  assert.is(code, 0, stderr);
  await waitFor(() => alice.heard.length > 0, 'a condition', 3000);
  assert.is(alice.heard[0]!.text, 'hello from hello with hi');
  await alice.client.close();
});

test('the file-echo example downloads a shared file and shares the same bytes back privately to the sender', async () => {
  const echo = await loadBotScript(join(ROOT, 'bots/examples/file-echo.ts'));
  const stop = new AbortController();
  const running = runBot(echo, { server: `127.0.0.1:${server.port}`, room: 'lab', name: 'echo', signal: stop.signal });
  const client = new ConfabClient({ url: `tcp://127.0.0.1:${server.port}`, name: 'alice', room: 'lab' });
  const api = client.use(filesClient());
  const received: FileInfo[] = [];
  api.on('file', (file) => received.push(file));
  await client.connect();
  await waitFor(() => client.peers.size === 1, 'the echo bot', 3000);
  const content = Buffer.alloc(300_000);
  for (let i = 0; i < content.length; i++) content[i] = (i * 7) % 251;
  const path = join(dir, 'notes.bin');
  writeFileSync(path, content);
  const shared = await api.upload(path).done;
  await waitFor(() => received.some((f) => f.name === 'echo-notes.bin'), 'the echo', 10_000);
  const echoed = received.find((f) => f.name === 'echo-notes.bin')!;
  assert.is(echoed.to?.id, client.self!.id, 'shared privately with the sender');
  assert.is(echoed.sha256, shared.sha256);
  const back = join(dir, 'back.bin');
  await api.download(echoed.id, back).done;
  assert.is(createHash('sha256').update(readFileSync(back)).digest('hex'), createHash('sha256').update(content).digest('hex'));
  stop.abort();
  assert.is((await running).reason, 'signal');
  await client.close();
});

test('showTestCard() publishes JPEG and play() VP8 camera frames the room receives, and both stop when the bot leaves', async () => {
  const media = await startTestServer({ plugins: [chat(), videoRelay()] });
  const watcher = new ConfabClient({ url: `tcp://127.0.0.1:${media.port}`, name: 'watcher', room: 'lab' });
  try {
    const frames: Array<{ codec: number; data: Uint8Array }> = [];
    watcher.use(videoClient()).on('frame', (frame) => frames.push({ codec: frame.codec, data: frame.data.slice() }));
    await watcher.connect();
    let fromCard = 0;
    const result = await runBot(defineBot(async (bot) => {
      const card = bot.showTestCard({ fps: 10 });
      await bot.sleep(600);
      card.stop();
      fromCard = frames.length;
      const source = await bot.play({ input: { testPattern: {} }, durationS: 1, width: 160, height: 120 });
      await source.ended;
      await bot.leave();
    }), { server: `127.0.0.1:${media.port}`, room: 'lab', name: 'caster' });
    assert.is(result.reason, 'left');
    assert.ok(fromCard >= 3, `${fromCard} test card frames`);
    assert.ok(frames.length - fromCard >= 10, `${frames.length - fromCard} frames from ffmpeg`);
    for (const { codec, data } of frames.slice(0, fromCard)) {
      assert.is(codec, MediaCodec.JPEG);
      assert.ok(data[0] === 0xff && data[1] === 0xd8 && data[data.length - 2] === 0xff && data[data.length - 1] === 0xd9, 'whole JPEGs');
    }
    const played = frames.slice(fromCard);
    assert.ok(played.every((frame) => frame.codec === MediaCodec.VP8), 'play() sends VP8');
    assert.is(vp8FrameKind(played[0]!.data), 'keyframe');
  } finally {
    await watcher.close();
    await media.close();
  }
});

test.run();
