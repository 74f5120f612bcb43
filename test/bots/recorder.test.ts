import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findFfmpeg, findFfprobe } from '../../bots/ffmpeg.js';
import { inject } from '../../bots/injector.js';
import { FRAME_SAMPLES, SAMPLE_RATE, toneShare } from '../../bots/media/pcm.js';
import { JpegSplitter, jpegSize } from '../../bots/media/jpeg-splitter.js';
import { startSource } from '../../bots/media/source.js';
import { GridCompositor } from '../../bots/recorder/grid.js';
import { record, type RecordingResult } from '../../bots/recorder/recorder.js';
import { fitWithin } from '../../bots/recorder/vp8-decoder.js';
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

/** One video frame of the file at `seconds`, as RGB24 bytes of width × height. */
function frameAt(file: string, seconds: number, width: number, height: number): Buffer {
  const result = spawnSync(ffmpegPath, ['-v', 'error', '-ss', String(seconds), '-i', file, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.is(result.status, 0, String(result.stderr));
  assert.is((result.stdout as Buffer).length, width * height * 3);
  return result.stdout as Buffer;
}

/** How many distinct colours (quantised) a region of an RGB24 picture holds: a test pattern has many, a flat tile one. */
function colours(rgb: Buffer, width: number, region: { x: number; y: number; w: number; h: number }): number {
  const seen = new Set<number>();
  for (let y = region.y; y < region.y + region.h; y += 4) {
    for (let x = region.x; x < region.x + region.w; x += 4) {
      const i = (y * width + x) * 3;
      seen.add(((rgb[i]! >> 5) << 6) | ((rgb[i + 1]! >> 5) << 3) | (rgb[i + 2]! >> 5));
    }
  }
  return seen.size;
}

test('the injector\'s VP8 and Opus go into the recorder\'s file: ffprobe finds VP8 and Opus lasting as long as the recording, the grid shows the decoded picture, and the chat transcript is beside it', async () => {
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
  assert.equal(injected.codecs, { video: 'vp8', audio: 'opus' });
  assert.ok(injected.sent.videoFrames >= 30, `the injector sent ${injected.sent.videoFrames} frames`);
  assert.ok(result.received.cameraFrames >= injected.sent.videoFrames * 0.9, `received ${result.received.cameraFrames} of ${injected.sent.videoFrames}`);
  const info = probe(result.out);
  const video = info.streams.find((s) => s.codec_type === 'video');
  const audio = info.streams.find((s) => s.codec_type === 'audio');
  assert.is(video?.codec_name, 'vp8');
  assert.is(audio?.codec_name, 'opus');
  assert.is(video!.width, 640);
  const duration = Number(info.format.duration);
  const recordedS = (result.stoppedAt - result.startedAt) / 1000;
  assert.ok(result.startedAt >= started && result.stoppedAt <= ended, 'the time recorded lies within the test');
  assert.ok(recordedS >= 3, `recorded ${recordedS} s, the injection alone lasted 3 s`);
  assert.ok(Math.abs(duration - recordedS) <= 1, `the file lasts ${duration} s, the recording ${recordedS} s`);
  assert.ok(Math.abs(result.durationS - recordedS) <= 0.1, `${result.durationS} s of media written for ${recordedS} s`);

  // Two tiles (alice, the injector) side by side; the injector's shows ffmpeg's test pattern, decoded from VP8.
  const picture = frameAt(result.out, 1.5, 640, 480);
  const injectorTile = { x: 330, y: 20, w: 300, h: 160 };
  assert.ok(colours(picture, 640, injectorTile) >= 8, `the injector's tile holds ${colours(picture, 640, injectorTile)} colours`);

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
  // The mixer conceals a late frame by repeating the tone, so a few more windows than frames sent may hold it.
  assert.ok(toneFrames <= injected.sent.audioFrames * 1.1, `${toneFrames} tone frames but only ${injected.sent.audioFrames} were sent`);
  assert.is(otherToneFrames, 0, 'and no 1 kHz tone, which nobody sent');

  const lines = readFileSync(result.transcript, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { type: string; text?: string; peer?: { name: string } });
  assert.ok(lines.some((l) => l.type === 'message' && l.text === 'hello recorder'), 'the chat message is in the transcript');
  assert.ok(lines.some((l) => l.type === 'joined' && l.peer?.name === 'injector'));
  assert.ok(lines.some((l) => l.type === 'left' && l.peer?.name === 'alice'));
  assert.ok(lines.some((l) => l.type === 'file'), 'the shared file is in the transcript');
  assert.equal(result.files, [join(dir, 'meeting.files', 'agenda.txt')]);
  assert.is(readFileSync(result.files[0]!, 'utf8'), '1. recording\n2. questions\n');
});

test('record() with tracksDir writes one file per participant without re-encoding (VP8 in WebM, JPEG in Matroska) and the mix in WebM, listed in tracks.json', async () => {
  const url = `tcp://127.0.0.1:${server.port}`;
  const alice = new ConfabClient({ url, name: 'alice', room: 'tracks' });
  await alice.connect();
  const tracksDir = join(dir, 'tracks');
  const recording = record({ server: url, room: 'tracks', out: join(dir, 'meeting.webm'), tracksDir, width: 320, height: 240 });
  await waitFor(() => alice.peers.size === 1, 5000, 'the recorder to join');
  const [vp8, jpeg] = await Promise.all([
    inject({ server: url, room: 'tracks', name: 'vera', input: { testPattern: {} }, durationS: 2, width: 320, height: 240 }),
    inject({ server: url, room: 'tracks', name: 'jules', codec: 'jpeg', audio: false, input: { testPattern: {} }, durationS: 2, width: 160, height: 120 }),
  ]);
  await alice.close();
  const result = await recording;

  assert.ok(vp8.sent.videoFrames >= 20 && jpeg.sent.videoFrames >= 20, `sent ${vp8.sent.videoFrames} VP8 and ${jpeg.sent.videoFrames} JPEG frames`);
  const manifest = JSON.parse(readFileSync(join(tracksDir, 'tracks.json'), 'utf8')) as { tracks: Array<{ file: string; kind: string; participant?: { name: string }; codec: string; frames: number }> };
  assert.equal(manifest.tracks, result.tracks);
  const byName = new Map(manifest.tracks.map((t) => [t.participant?.name ?? t.kind, t]));
  assert.equal([...byName.keys()].sort(), ['jules', 'mix', 'vera'], 'one file per participant who sent video, and the mix');
  assert.equal(readdirSync(tracksDir).sort(), [...manifest.tracks.map((t) => t.file), 'tracks.json'].sort());
  const expected: Record<string, [string, string, string]> = { vera: ['vp8', 'video', '.webm'], jules: ['mjpeg', 'video', '.mkv'], mix: ['opus', 'audio', '.webm'] };
  for (const [name, [codec, type, extension]] of Object.entries(expected)) {
    const track = byName.get(name)!;
    assert.ok(track.file.endsWith(extension), track.file);
    const info = probe(join(tracksDir, track.file));
    assert.equal(info.streams.map((s) => `${s.codec_type}:${s.codec_name}`), [`${type}:${codec}`], `${track.file} holds one ${codec} stream`);
    assert.ok(Number(info.format.duration) >= 1.5, `${track.file} lasts ${info.format.duration} s`);
  }
  // Copied, not re-encoded: the VP8 track keeps the sender's frames and its picture size.
  assert.is(probe(join(tracksDir, byName.get('vera')!.file)).streams[0]!.width, 320);
  assert.is(probe(join(tracksDir, byName.get('jules')!.file)).streams[0]!.width, 160);
  assert.ok(byName.get('vera')!.frames >= vp8.sent.videoFrames * 0.9, `${byName.get('vera')!.frames} of ${vp8.sent.videoFrames} frames copied`);
});

test('record() shows a VP8 screen share full-frame: the injector presents, the recorder decodes its frames', async () => {
  const url = `tcp://127.0.0.1:${server.port}`;
  const alice = new ConfabClient({ url, name: 'alice', room: 'talk' });
  await alice.connect();
  const recording = record({ server: url, room: 'talk', out: join(dir, 'talk.webm'), width: 320, height: 240, maxDurationS: 30 });
  await waitFor(() => alice.peers.size === 1, 5000, 'the recorder to join');
  const injected = await inject({ server: url, room: 'talk', input: { testPattern: {} }, as: 'screen', audio: false, durationS: 2, width: 640, height: 360, fps: 10 });
  await alice.close();
  const result = await recording;
  assert.ok(injected.sent.videoFrames >= 15, `sent ${injected.sent.videoFrames} screen frames`);
  assert.is(injected.codecs.video, 'vp8');
  assert.is(injected.sent.audioFrames, 0);
  assert.ok(result.received.screenFrames >= injected.sent.videoFrames * 0.9, `recorded ${result.received.screenFrames} screen frames`);
  assert.is(result.received.cameraFrames, 0);
  const info = probe(result.out);
  assert.equal(info.streams.map((s) => s.codec_type).sort(), ['audio', 'video']);
  assert.is(info.streams.find((s) => s.codec_type === 'video')!.width, 320);
  const picture = frameAt(result.out, 1, 320, 240);
  assert.ok(colours(picture, 320, { x: 20, y: 50, w: 280, h: 120 }) >= 8, 'the share (a 16:9 test pattern, letterboxed) fills the frame');
});

test('record() refuses an output it cannot write before joining, and an empty room unless told to wait, leaving no files', async () => {
  const url = `tcp://127.0.0.1:${server.port}`;
  const expectCode = async (promise: Promise<unknown>, code: string): Promise<Error> => {
    try {
      await promise;
    } catch (error) {
      assert.ok(isConfabError(error) && error.code === code, String(error));
      return error as Error;
    }
    throw new Error(`expected ${code}, but it resolved`);
  };
  const mp4 = await expectCode(record({ server: url, room: 'lab', out: join(dir, 'x.mp4') }), 'BOT_OUTPUT_INVALID');
  assert.match(mp4.message, /\.mkv or \.webm/);
  writeFileSync(join(dir, 'taken.mkv'), 'mine');
  await expectCode(record({ server: url, room: 'lab', out: join(dir, 'taken.mkv') }), 'BOT_OUTPUT_INVALID');
  assert.is(readFileSync(join(dir, 'taken.mkv'), 'utf8'), 'mine', 'an existing file is left alone');
  const empty = await expectCode(record({ server: url, room: 'nobody-here', out: join(dir, 'empty.mkv') }), 'BOT_ROOM_EMPTY');
  assert.match(empty.message, /room "nobody-here" is empty/);
  assert.equal(readdirSync(dir), ['taken.mkv'], 'no recording, no transcript');

  // With waitForPeers it waits in the empty room, starts when someone joins, and stops when they leave.
  const waiting = record({ server: url, room: 'later', out: join(dir, 'later.mkv'), waitForPeers: true, log: () => {} });
  const bob = new ConfabClient({ url, name: 'bob', room: 'later' });
  await bob.connect();
  await waitFor(() => bob.peers.size === 1, 5000, 'the waiting recorder to be in the room');
  await new Promise((done) => setTimeout(done, 500));
  await bob.close();
  const result = await waiting;
  assert.is(result.reason, 'empty');
  assert.equal(probe(result.out).streams.map((s) => s.codec_type).sort(), ['audio', 'video']);

  // Stopped while still waiting: nothing was recorded, and it says so.
  const controller = new AbortController();
  const stopped = record({ server: url, room: 'never', out: join(dir, 'never.mkv'), waitForPeers: true, signal: controller.signal });
  setTimeout(() => controller.abort(), 300);
  const never = await expectCode(stopped, 'BOT_ROOM_EMPTY');
  assert.match(never.message, /nothing was recorded/);
  assert.not.ok(existsSync(join(dir, 'never.mkv')) || existsSync(join(dir, 'never.chat.jsonl')));
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

test('fitWithin() scales down to an even size inside the box, never up', () => {
  assert.equal(fitWithin(1920, 1080, 640, 480), { width: 640, height: 360 });
  assert.equal(fitWithin(320, 240, 640, 480), { width: 320, height: 240 });
  assert.equal(fitWithin(641, 481, 640, 480), { width: 638, height: 480 });
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

test('JpegSplitter finds whole images across chunk boundaries and skips bytes between them; jpegSize() reads the frame header', () => {
  const images: Buffer[] = [];
  const splitter = new JpegSplitter((jpeg) => images.push(jpeg));
  const a = Buffer.from([0xff, 0xd8, 1, 2, 0xff, 0x00, 3, 0xff, 0xd9]);
  const b = Buffer.from([0xff, 0xd8, 9, 0xff, 0xd9]);
  const stream = Buffer.concat([Buffer.from([7, 7]), a, Buffer.from([0]), b]);
  for (let i = 0; i < stream.length; i += 2) splitter.push(stream.subarray(i, i + 2));
  assert.equal(images, [a, b]);
  assert.is(splitter.pendingBytes <= 1, true);
  const real = spawnSync(ffmpegPath, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=176x144', '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'mjpeg', 'pipe:1']).stdout as Buffer;
  assert.equal(jpegSize(real), { width: 176, height: 144 });
  assert.is(jpegSize(a), undefined);
});

test.run();
