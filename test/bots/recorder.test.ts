import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findFfmpeg, findFfprobe } from '../../bots/ffmpeg.js';
import { inject } from '../../bots/injector.js';
import { FRAME_SAMPLES, SAMPLE_RATE, toneShare } from '../../bots/media/pcm.js';
import { JpegSplitter } from '../../bots/media/jpeg-splitter.js';
import { startSource } from '../../bots/media/source.js';
import { GridCompositor } from '../../bots/recorder/grid.js';
import { record, type RecordingResult } from '../../bots/recorder/recorder.js';
import { isConfabError } from '../../core/errors.js';
import { ConfabClient } from '../../core/client/node.js';
import { chatClient } from '../../plugins/chat/client.js';
import { audioMix } from '../../plugins/audio-mix/server.js';
import { chat } from '../../plugins/chat/server.js';
import { filesClient } from '../../plugins/files/client-node.js';
import { files } from '../../plugins/files/server.js';
import { screen } from '../../plugins/screen/server.js';
import { videoRelay } from '../../plugins/video-relay/server.js';
import { startServer, waitFor, type TestServer } from '../helpers/server.js';

const ffmpegPath = (await findFfmpeg()).path;
const ffprobePath = (await findFfprobe()).path;
let dir = '';
let server: TestServer;

test.before.each(async () => {
  dir = mkdtempSync(join(tmpdir(), 'confab-recorder-'));
  server = await startServer([chat(), videoRelay(), screen(), audioMix(), files()]);
});
test.after.each(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Probe {
  streams: Array<{ codec_type: string; codec_name: string; width?: number; height?: number }>;
  format: { duration: string };
}

function probe(file: string): Probe {
  const result = spawnSync(ffprobePath, ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file], { encoding: 'utf8' });
  assert.is(result.status, 0, `ffprobe refused ${file}: ${result.stderr}`);
  return JSON.parse(result.stdout) as Probe;
}

/** The file's audio as 48 kHz mono s16 samples, decoded by ffmpeg. */
function decodeAudio(file: string): Int16Array {
  const result = spawnSync(ffmpegPath, ['-v', 'error', '-i', file, '-map', '0:a', '-f', 's16le', '-ac', '1', '-ar', String(SAMPLE_RATE), 'pipe:1'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.is(result.status, 0, String(result.stderr));
  const bytes = result.stdout as Buffer;
  return new Int16Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 2));
}

test('record() writes a file ffprobe accepts with a video and an audio stream lasting as long as the recording, and the chat transcript', async () => {
  const url = `tcp://127.0.0.1:${server.port}`;
  const alice = new ConfabClient({ url, name: 'alice', room: 'lab' });
  const aliceChat = alice.use(chatClient());
  const aliceFiles = alice.use(filesClient());
  await alice.connect();
  const started = Date.now();
  const recording = record({ server: url, room: 'lab', out: join(dir, 'meeting.mkv') });
  await waitFor(() => alice.peers.size === 1, 5000, 'the recorder to join');
  const injected = await inject({ server: url, room: 'lab', input: { testPattern: { frequency: 440 } }, durationS: 3, width: 320, height: 240 });
  await aliceChat.send('hello recorder');
  writeFileSync(join(dir, 'agenda.txt'), '1. recording\n2. questions\n');
  await aliceFiles.upload(join(dir, 'agenda.txt')).done;
  await alice.close();
  const result: RecordingResult = await recording;
  const ended = Date.now();

  assert.is(result.reason, 'empty', 'the recorder stops when the room empties');
  assert.ok(injected.sent.videoFrames >= 30, `the injector sent ${injected.sent.videoFrames} frames`);
  assert.ok(result.received.cameraFrames >= injected.sent.videoFrames * 0.9, `received ${result.received.cameraFrames} of ${injected.sent.videoFrames}`);
  const info = probe(result.out);
  const video = info.streams.find((s) => s.codec_type === 'video');
  const audio = info.streams.find((s) => s.codec_type === 'audio');
  assert.ok(video && audio, `streams: ${info.streams.map((s) => s.codec_type).join(', ')}`);
  assert.is(video!.width, 640);
  const duration = Number(info.format.duration);
  const recordedS = (result.stoppedAt - result.startedAt) / 1000;
  assert.ok(result.startedAt >= started && result.stoppedAt <= ended, 'the time recorded lies within the test');
  assert.ok(recordedS >= 3, `recorded ${recordedS} s, the injection alone lasted 3 s`);
  assert.ok(Math.abs(duration - recordedS) <= 1, `the file lasts ${duration} s, the recording ${recordedS} s`);
  assert.ok(Math.abs(result.durationS - recordedS) <= 0.1, `${result.durationS} s of media written for ${recordedS} s`);

  // The tone: 20 ms windows of the recorded audio in which 440 Hz holds most of the power.
  const samples = decodeAudio(result.out);
  let toneFrames = 0;
  let otherToneFrames = 0;
  for (let offset = 0; offset + FRAME_SAMPLES <= samples.length; offset += FRAME_SAMPLES) {
    const window = samples.subarray(offset, offset + FRAME_SAMPLES);
    if (toneShare(window, 440) > 0.5) toneFrames++;
    if (toneShare(window, 1000) > 0.5) otherToneFrames++;
  }
  assert.ok(injected.sent.audioFrames >= 140, `the injector sent ${injected.sent.audioFrames} audio frames`);
  assert.ok(toneFrames >= 100, `the 440 Hz tone is in ${toneFrames} frames of the recording (3 s injected = 150)`);
  assert.ok(toneFrames <= injected.sent.audioFrames + 5, `${toneFrames} tone frames but only ${injected.sent.audioFrames} were sent`);
  assert.is(otherToneFrames, 0, 'and no 1 kHz tone, which nobody sent');

  const lines = readFileSync(result.transcript, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { type: string; text?: string; peer?: { name: string } });
  assert.ok(lines.some((l) => l.type === 'message' && l.text === 'hello recorder'), 'the chat message is in the transcript');
  assert.ok(lines.some((l) => l.type === 'joined' && l.peer?.name === 'injector'));
  assert.ok(lines.some((l) => l.type === 'left' && l.peer?.name === 'alice'));
  assert.ok(lines.some((l) => l.type === 'file'), 'the shared file is in the transcript');
  assert.equal(result.files, [join(dir, 'meeting.files', 'agenda.txt')]);
  assert.is(readFileSync(result.files[0]!, 'utf8'), '1. recording\n2. questions\n');
});

test('record() shows a screen share full-frame: the injector presents, the recorder writes its frames', async () => {
  const url = `tcp://127.0.0.1:${server.port}`;
  const alice = new ConfabClient({ url, name: 'alice', room: 'talk' });
  await alice.connect();
  const recording = record({ server: url, room: 'talk', out: join(dir, 'talk.webm'), width: 320, height: 240, maxDurationS: 30 });
  await waitFor(() => alice.peers.size === 1, 5000, 'the recorder to join');
  const injected = await inject({ server: url, room: 'talk', input: { testPattern: {} }, as: 'screen', audio: false, durationS: 1.5, width: 320, height: 240 });
  await alice.close();
  const result = await recording;
  assert.ok(injected.sent.videoFrames >= 15, `sent ${injected.sent.videoFrames} screen frames`);
  assert.is(injected.sent.audioFrames, 0);
  assert.ok(result.received.screenFrames >= injected.sent.videoFrames * 0.9, `recorded ${result.received.screenFrames} screen frames`);
  assert.is(result.received.cameraFrames, 0);
  const info = probe(result.out);
  assert.equal(info.streams.map((s) => s.codec_type).sort(), ['audio', 'video']);
  assert.is(info.streams.find((s) => s.codec_type === 'video')!.width, 320);
});

test('GridCompositor keeps bad JPEGs out of the picture and counts them; a participant that left loses its tile', () => {
  const grid = new GridCompositor(160, 120);
  grid.setParticipant('a', 'alice');
  grid.cameraFrame('a', new Uint8Array([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]));
  const frame = grid.render();
  assert.is(frame.length, 160 * 120 * 4);
  assert.is(grid.badFrames, 1);
  grid.cameraFrame('nobody', new Uint8Array([1, 2, 3]));
  assert.is(grid.badFrames, 1, 'a frame from an unknown sender is ignored, not decoded');
  assert.ok(grid.render() === frame, 'nothing changed: the same frame again');
  grid.removeParticipant('a');
  assert.ok(grid.render() !== frame);
});

test('startSource() refuses a missing file and a file ffprobe cannot read, with BOT_INPUT_INVALID', async () => {
  for (const file of [join(dir, 'missing.mp4'), join(dir, 'garbage.mp4')]) {
    if (file.endsWith('garbage.mp4')) writeFileSync(file, 'this is not a video');
    try {
      await startSource({ input: { file } });
      assert.unreachable('should throw');
    } catch (error) {
      assert.ok(isConfabError(error) && error.code === 'BOT_INPUT_INVALID', String(error));
    }
  }
});

test('JpegSplitter finds whole images across chunk boundaries and skips bytes between them', () => {
  const images: Buffer[] = [];
  const splitter = new JpegSplitter((jpeg) => images.push(jpeg));
  const a = Buffer.from([0xff, 0xd8, 1, 2, 0xff, 0x00, 3, 0xff, 0xd9]);
  const b = Buffer.from([0xff, 0xd8, 9, 0xff, 0xd9]);
  const stream = Buffer.concat([Buffer.from([7, 7]), a, Buffer.from([0]), b]);
  for (let i = 0; i < stream.length; i += 2) splitter.push(stream.subarray(i, i + 2));
  assert.equal(images, [a, b]);
  assert.is(splitter.pendingBytes <= 1, true);
});

test.run();
