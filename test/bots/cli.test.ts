import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
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
import { startTestServer, waitFor, type TestServer } from '../../core/testing.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'cli/confab.mjs');
const ffprobe = (await findFfprobe()).path;
let server: TestServer;
let dir = '';
const children: ChildProcess[] = [];

test.before.each(async () => {
  server = await startTestServer({ plugins: [chat(), videoRelay(), audioMix()] });
  dir = mkdtempSync(join(tmpdir(), 'confab-bot-cli-'));
});
test.after.each(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid!, 'SIGKILL');
      await new Promise((done) => child.once('exit', done));
    }
  }
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs the real CLI as a node process (no npm wrapper), in a process group of its own, so a test can signal
 * the group as `timeout` and systemd do.
 */
function confab(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, output: () => output, exited };
}

function probeStreams(file: string): string[] {
  const probe = spawnSync(ffprobe, ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  assert.is(probe.status, 0, probe.stderr);
  return probe.stdout.trim().split('\n').sort();
}

test('confab bot record finishes cleanly on SIGTERM to its process group, as on SIGINT, with --tracks too; confab bot inject publishes VP8 and Opus', async () => {
  const server_ = `127.0.0.1:${server.port}`;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const watcher = new ConfabClient({ url: `tcp://${server_}`, name: 'watcher', room: 'lab' });
    await watcher.connect();
    const out = join(dir, `meeting-${signal}.mkv`);
    const tracksDir = join(dir, `tracks-${signal}`);
    const tracks = signal === 'SIGTERM' ? ['--tracks', tracksDir] : [];
    const recorder = confab(['bot', 'record', '--server', server_, '--room', 'lab', '--out', out, ...tracks, '--keep-going', '--size', '320x240']);
    await waitFor(() => watcher.peers.size === 1, 'the recorder to join', 20_000);
    const injector = confab(['bot', 'inject', '--server', server_, '--room', 'lab', '--test-pattern', '--duration', '1500ms', '--size', '320x240']);
    assert.is(await injector.exited, 0, injector.output());
    assert.match(injector.output(), /sent \d+ video \(vp8\) and \d+ audio frames \(opus\) \(end\)/);
    await watcher.close();
    // The whole group, as `timeout` and systemd send it: node and, were they in it, its ffmpeg children.
    process.kill(-recorder.child.pid!, signal);
    assert.is(await recorder.exited, 0, recorder.output());
    assert.match(recorder.output(), /recorded [\d.]+ s \(signal\)/);
    assert.not.match(recorder.output(), /BOT_FFMPEG_FAILED|frame=|Error/);
    assert.equal(probeStreams(out), ['opus', 'vp8']);
    assert.ok(existsSync(join(dir, `meeting-${signal}.chat.jsonl`)));
    if (signal !== 'SIGTERM') continue;
    // --tracks: the injector's camera and microphone in one WebM, the mix in another, and no spool left.
    const files = readdirSync(tracksDir).sort();
    assert.is(files.length, 3, files.join(' '));
    const [injectorFile, mixFile] = [files.find((file) => file.startsWith('injector-'))!, files.find((file) => file === 'mix.webm')!];
    assert.equal(files, [injectorFile, mixFile, 'tracks.json'].sort());
    assert.match(recorder.output(), new RegExp(`tracks in ${tracksDir}: .*${injectorFile}`));
    assert.equal(probeStreams(join(tracksDir, injectorFile)), ['opus', 'vp8']);
    assert.equal(probeStreams(join(tracksDir, mixFile)), ['opus']);
  }
});

test('confab bot record checks --out before it starts and leaves no file behind when it cannot record', async () => {
  const server_ = `127.0.0.1:${server.port}`;
  const mp4 = confab(['bot', 'record', '--server', server_, '--room', 'lab', '--out', join(dir, 'x.mp4')]);
  assert.is(await mp4.exited, 1);
  assert.match(mp4.output(), /BOT_OUTPUT_INVALID: .*x\.mp4: the recording is VP8 video with Opus audio, so --out must end in \.mkv or \.webm/);

  const closed = await startTestServer({ plugins: [chat()] });
  const port = closed.port;
  await closed.close();
  const refused = confab(['bot', 'record', '--server', `127.0.0.1:${port}`, '--room', 'lab', '--out', join(dir, 'refused.mkv')]);
  assert.is(await refused.exited, 1);
  assert.match(refused.output(), /CONNECT_FAILED|ECONNREFUSED|refused/);
  assert.equal(readdirSync(dir), [], 'no recording and no .chat.jsonl');
});

test('confab bot record says when the room is empty, and with --wait waits for someone and records', async () => {
  const server_ = `127.0.0.1:${server.port}`;
  const someone = new ConfabClient({ url: `tcp://${server_}`, name: 'someone', room: 'lab' });
  await someone.connect();
  try {
    const misspelled = confab(['bot', 'record', '--server', server_, '--room', 'lba', '--out', join(dir, 'lba.mkv')]);
    assert.is(await misspelled.exited, 1);
    assert.match(misspelled.output(), /BOT_ROOM_EMPTY: room "lba" is empty\..*--wait/);
    assert.equal(readdirSync(dir), []);
  } finally {
    await someone.close();
  }

  const out = join(dir, 'later.webm');
  const waiting = confab(['bot', 'record', '--server', server_, '--room', 'later', '--out', out, '--wait']);
  await waitFor(() => /Waiting for someone to join/.test(waiting.output()), 'the recorder to say it waits', 20_000);
  assert.equal(readdirSync(dir), [], 'nothing written while waiting');
  const bob = new ConfabClient({ url: `tcp://${server_}`, name: 'bob', room: 'later' });
  await bob.connect();
  await waitFor(() => /recording room later/.test(waiting.output()), 'the recording to start', 20_000);
  await bob.close();
  assert.is(await waiting.exited, 0, waiting.output());
  assert.match(waiting.output(), /recorded [\d.]+ s \(empty\)/);
  assert.equal(probeStreams(out), ['opus', 'vp8']);
});

test('confab bot load prints a JSON report with per-layer delivery, refuses absurd --bots, and stops at once when it cannot connect', async () => {
  const run = confab(['bot', 'load', '--server', `127.0.0.1:${server.port}`, '--bots', '3', '--duration', '1s', '--video', '--fps', '8', '--chat-rate', '5', '--json']);
  assert.is(await run.exited, 0, run.output());
  const report = JSON.parse(run.output().slice(run.output().indexOf('{'))) as {
    joined: number;
    video: { codec: string; sent: number; expected: number; layered: { layers: Array<{ layer: number; sent: number; expected: number; received: number }> } };
    chat: { received: number; expected: number };
  };
  assert.is(report.joined, 3);
  assert.is(report.video.codec, 'vp8');
  assert.is(report.video.expected, report.video.sent * 2);
  assert.equal(report.video.layered.layers.map((l) => l.layer), [0, 1, 2]);
  assert.is(report.video.layered.layers.reduce((sum, l) => sum + l.expected, 0), report.video.expected);
  assert.is(report.chat.received, report.chat.expected);

  const absurd = confab(['bot', 'load', '--bots', '1000000000']);
  assert.is(await absurd.exited, 1);
  assert.match(absurd.output(), /BOT_OPTION_INVALID: --bots takes a whole number from 1 to 1000, got 1000000000/);

  const closed = await startTestServer({ plugins: [chat()] });
  const port = closed.port;
  await closed.close();
  const down = confab(['bot', 'load', '--server', `127.0.0.1:${port}`, '--bots', '5', '--duration', '10m']);
  assert.is(await down.exited, 1);
  assert.match(down.output(), new RegExp(`BOT_CONNECT_FAILED: the first load bot could not join load at tcp://127\\.0\\.0\\.1:${port}`));
  assert.not.match(down.output(), /Load test:/, 'no report of zeros');
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
