import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findFfmpeg, findFfprobe } from '../../bots/ffmpeg.js';
import { inject } from '../../bots/injector.js';
import { FRAME_SAMPLES, SAMPLE_RATE, SineTone, toneShare } from '../../bots/media/pcm.js';
import { JpegSplitter, jpegSize } from '../../bots/media/jpeg-splitter.js';
import { startSource } from '../../bots/media/source.js';
import { GridCompositor } from '../../bots/recorder/grid.js';
import { record, type RecordingResult } from '../../bots/recorder/recorder.js';
import { fitWithin } from '../../bots/recorder/vp8-decoder.js';
import { isConfabError } from '../../core/errors.js';
import { ConfabClient } from '../../core/client/node.js';
import { audioClient } from '../../plugins/audio-mix/client.js';
import { chatClient } from '../../plugins/chat/client.js';
import { audioMix } from '../../plugins/audio-mix/server.js';
import { chat } from '../../plugins/chat/server.js';
import { filesClient } from '../../plugins/files/client-node.js';
import { files } from '../../plugins/files/server.js';
import { screen } from '../../plugins/screen/server.js';
import { videoRelay } from '../../plugins/video-relay/server.js';
import { startTestServer, waitFor, type TestServer } from '../../core/testing.js';
import { paced } from '../plugins/audio-signal.js';

const ffmpegPath = (await findFfmpeg()).path;
const ffprobePath = (await findFfprobe()).path;
let dir = '';
let server: TestServer;

test.before.each(async () => {
  dir = mkdtempSync(join(tmpdir(), 'confab-recorder-'));
  server = await startTestServer({ plugins: [chat(), videoRelay(), screen(), audioMix(), files()] });
});
test.after.each(async () => {
  await server.close();
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
  await waitFor(() => alice.peers.size === 1, 'the recorder to join', 5000);
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

interface Manifest {
  startedAt: number;
  tracks: Array<{ file: string; kind: string; participant?: { name: string }; startMs: number; streams: Array<{ type: string; codec: string; offsetMs: number; frames: number }> }>;
}

/** How many 20 ms windows of the file's audio hold `frequency` as most of their power. */
function toneFrames(file: string, frequency: number): number {
  const samples = decodeAudio(file);
  let frames = 0;
  for (let offset = 0; offset + FRAME_SAMPLES <= samples.length; offset += FRAME_SAMPLES) {
    if (toneShare(samples.subarray(offset, offset + FRAME_SAMPLES), frequency) > 0.5) frames++;
  }
  return frames;
}

/** Reads tracks.json, checks it lists exactly the files in the directory, and returns its tracks by participant name (`mix` for the mix). */
function readTracks(tracksDir: string, result: RecordingResult): Map<string, Manifest['tracks'][number]> {
  const manifest = JSON.parse(readFileSync(join(tracksDir, 'tracks.json'), 'utf8')) as Manifest;
  assert.equal(manifest.tracks, result.tracks);
  assert.equal(readdirSync(tracksDir).sort(), [...manifest.tracks.map((t) => t.file), 'tracks.json'].sort(), 'the track files and tracks.json, no spools left');
  return new Map(manifest.tracks.map((t) => [t.participant?.name ?? t.kind, t]));
}

test('record() with tracksDir writes one WebM per participant holding its VP8 video and Opus audio, both copied, each with that participant\'s tone; the mix apart; listed in tracks.json', async () => {
  const url = `tcp://127.0.0.1:${server.port}`;
  const alice = new ConfabClient({ url, name: 'alice', room: 'tracks' });
  await alice.connect();
  const tracksDir = join(dir, 'tracks');
  const recording = record({ server: url, room: 'tracks', out: join(dir, 'meeting.webm'), tracksDir, width: 320, height: 240 });
  await waitFor(() => alice.peers.size === 1, 'the recorder to join', 5000);
  const injections = await Promise.all([
    inject({ server: url, room: 'tracks', name: 'ann', input: { testPattern: { frequency: 440 } }, durationS: 3, width: 320, height: 240 }),
    inject({ server: url, room: 'tracks', name: 'ben', input: { testPattern: { frequency: 880 } }, durationS: 3, width: 176, height: 144 }),
  ]);
  await alice.close();
  const result = await recording;

  const byName = readTracks(tracksDir, result);
  assert.equal([...byName.keys()].sort(), ['ann', 'ben', 'mix'], 'one file per participant who sent media, and the mix');
  const expected = { ann: { width: 320, tone: 440, other: 880 }, ben: { width: 176, tone: 880, other: 440 } };
  for (const [i, [name, { width, tone, other }]] of Object.entries(expected).entries()) {
    const injected = injections[i]!;
    const track = byName.get(name)!;
    const path = join(tracksDir, track.file);
    assert.ok(track.file.endsWith('.webm'), track.file);
    assert.is(track.kind, 'participant');
    const info = probe(path);
    assert.equal(info.streams.map((s) => `${s.codec_type}:${s.codec_name}`), ['video:vp8', 'audio:opus'], `${track.file} holds VP8 and Opus`);
    assert.is(info.streams[0]!.width, width, 'the sender\'s picture size: copied, not re-encoded');
    const duration = Number(info.format.duration);
    assert.ok(duration >= 2.5 && duration <= 4.5, `${track.file} lasts ${duration} s for 3 s injected`);
    const [video, audio] = track.streams;
    assert.ok(video!.frames >= injected.sent.videoFrames * 0.9, `${video!.frames} of ${injected.sent.videoFrames} video frames copied`);
    assert.ok(audio!.frames >= injected.sent.audioFrames * 0.9, `${audio!.frames} of ${injected.sent.audioFrames} audio frames copied`);
    // The file's audio is this participant's own voice, not the mix: its tone, and nothing of the other's.
    const own = toneFrames(path, tone);
    assert.ok(own >= 120, `${name}'s ${tone} Hz tone is in ${own} of about 150 frames of ${track.file}`);
    assert.ok(toneFrames(path, other) <= 2, `${track.file} holds none of the other participant's ${other} Hz`);
  }
  const mix = probe(join(tracksDir, byName.get('mix')!.file));
  assert.equal(mix.streams.map((s) => `${s.codec_type}:${s.codec_name}`), ['audio:opus']);
});

test('record() with tracksDir puts JPEG video and PCM audio into Matroska, copied, and an audio-only participant into an audio-only WebM', async () => {
  const url = `tcp://127.0.0.1:${server.port}`;
  const otto = new ConfabClient({ url, name: 'otto', room: 'tracks' });
  const ottoAudio = otto.use(audioClient({ codec: 'opus', listen: false }));
  await otto.connect();
  await ottoAudio.ready;
  const tracksDir = join(dir, 'tracks');
  const recording = record({ server: url, room: 'tracks', out: join(dir, 'meeting.mkv'), tracksDir, width: 320, height: 240 });
  await waitFor(() => otto.peers.size === 1, 'the recorder to join', 5000);
  const tone = new SineTone(1000);
  const [jpeg] = await Promise.all([
    inject({ server: url, room: 'tracks', name: 'jules', codec: 'jpeg', audioCodec: 'pcm', input: { testPattern: { frequency: 660 } }, durationS: 2, width: 160, height: 120 }),
    paced(100, () => ottoAudio.publish(tone.next())),
  ]);
  await otto.close();
  const result = await recording;

  const byName = readTracks(tracksDir, result);
  assert.equal([...byName.keys()].sort(), ['jules', 'mix', 'otto']);
  const jules = byName.get('jules')!;
  assert.ok(jules.file.endsWith('.mkv'), jules.file);
  const julesInfo = probe(join(tracksDir, jules.file));
  assert.equal(julesInfo.streams.map((s) => `${s.codec_type}:${s.codec_name}`), ['video:mjpeg', 'audio:pcm_s16le']);
  assert.is(julesInfo.streams[0]!.width, 160);
  const julesS = Number(julesInfo.format.duration);
  assert.ok(julesS >= 1.5 && julesS <= 3.5, `${jules.file} lasts ${julesS} s for 2 s injected`);
  assert.ok(jules.streams[1]!.frames >= jpeg.sent.audioFrames * 0.9, `${jules.streams[1]!.frames} of ${jpeg.sent.audioFrames} PCM frames copied`);
  assert.ok(toneFrames(join(tracksDir, jules.file), 660) >= 80, 'jules\'s 660 Hz tone');

  const ottoTrack = byName.get('otto')!;
  assert.ok(ottoTrack.file.endsWith('.webm'), ottoTrack.file);
  const ottoInfo = probe(join(tracksDir, ottoTrack.file));
  assert.equal(ottoInfo.streams.map((s) => `${s.codec_type}:${s.codec_name}`), ['audio:opus'], 'audio only');
  const ottoS = Number(ottoInfo.format.duration);
  assert.ok(ottoS >= 1.5 && ottoS <= 3, `${ottoTrack.file} lasts ${ottoS} s for 2 s sent`);
  assert.ok(toneFrames(join(tracksDir, ottoTrack.file), 1000) >= 80, 'otto\'s 1 kHz tone');
  assert.ok(toneFrames(join(tracksDir, ottoTrack.file), 660) <= 2, 'and nothing of jules');
});

test('record() shows a VP8 screen share full-frame: the injector presents, the recorder decodes its frames', async () => {
  const url = `tcp://127.0.0.1:${server.port}`;
  const alice = new ConfabClient({ url, name: 'alice', room: 'talk' });
  await alice.connect();
  const recording = record({ server: url, room: 'talk', out: join(dir, 'talk.webm'), width: 320, height: 240, maxDurationS: 30 });
  await waitFor(() => alice.peers.size === 1, 'the recorder to join', 5000);
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
  await waitFor(() => bob.peers.size === 1, 'the waiting recorder to be in the room', 5000);
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
