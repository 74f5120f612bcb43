import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findFfprobe } from '../../bots/ffmpeg.js';
import { ConfabClient } from '../../core/client/node.js';
import { audioMix } from '../../plugins/audio-mix/server.js';
import { chat } from '../../plugins/chat/server.js';
import { videoRelay } from '../../plugins/video-relay/server.js';
import { startServer, waitFor, type TestServer } from '../helpers/server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'cli/confab.mjs');
const ffprobe = (await findFfprobe()).path;
let server: TestServer;
let dir = '';
const children: ChildProcess[] = [];

test.before.each(async () => {
  server = await startServer([chat(), videoRelay(), audioMix()]);
  dir = mkdtempSync(join(tmpdir(), 'confab-bot-cli-'));
});
test.after.each(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((done) => child.once('exit', done));
    }
  }
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

function confab(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, output: () => output, exited };
}

test('confab bot record stops cleanly on SIGINT and leaves a file ffprobe accepts; confab bot inject publishes a test pattern', async () => {
  const server_ = `127.0.0.1:${server.port}`;
  const watcher = new ConfabClient({ url: `tcp://${server_}`, name: 'watcher', room: 'lab' });
  await watcher.connect();
  const out = join(dir, 'meeting.mkv');
  const recorder = confab(['bot', 'record', '--server', server_, '--room', 'lab', '--out', out, '--keep-going', '--size', '320x240']);
  await waitFor(() => watcher.peers.size === 1, 20_000, 'the recorder to join');
  const injector = confab(['bot', 'inject', '--server', server_, '--room', 'lab', '--test-pattern', '--duration', '1500ms', '--size', '320x240']);
  assert.is(await injector.exited, 0, injector.output());
  assert.match(injector.output(), /sent \d+ video and \d+ audio frames \(end\)/);
  await watcher.close();
  recorder.child.kill('SIGINT');
  assert.is(await recorder.exited, 0, recorder.output());
  assert.match(recorder.output(), /recorded [\d.]+ s \(signal\)/);
  const probe = spawnSync(ffprobe, ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', out], { encoding: 'utf8' });
  assert.is(probe.status, 0, probe.stderr);
  assert.equal(probe.stdout.trim().split('\n').sort(), ['audio', 'video']);
  assert.ok(existsSync(join(dir, 'meeting.chat.jsonl')));
});

test('confab bot load prints a JSON report with --json', async () => {
  const run = confab(['bot', 'load', '--server', `127.0.0.1:${server.port}`, '--bots', '3', '--duration', '1s', '--video', '--chat-rate', '5', '--json']);
  assert.is(await run.exited, 0, run.output());
  const report = JSON.parse(run.output().slice(run.output().indexOf('{'))) as { joined: number; video: { sent: number; expected: number }; chat: { received: number; expected: number } };
  assert.is(report.joined, 3);
  assert.is(report.video.expected, report.video.sent * 2);
  assert.is(report.chat.received, report.chat.expected);
});

test('confab bot refuses wrong options with a clear message and exit code', async () => {
  for (const [args, pattern] of [
    [['bot', 'inject', '--room', 'x'], /--file <media> or --test-pattern/],
    [['bot', 'record', '--room', 'x'], /needs --out/],
    [['bot', 'load', '--bots', '2', '--duration', 'soon'], /--duration takes a time/],
    [['bot', 'inject', '--test-pattern', '--size', '641x480'], /--size takes WIDTHxHEIGHT/],
    [['bot', 'dance'], /unknown command "dance"/],
  ] as Array<[string[], RegExp]>) {
    const run = confab(args);
    const code = await run.exited;
    assert.ok(code === 1 || code === 2, `${args.join(' ')} exited ${code}`);
    assert.match(run.output(), pattern);
  }
});

test.run();
