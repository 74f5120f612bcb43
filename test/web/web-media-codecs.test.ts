/**
 * The web client's media v2 end to end, in real Chromium with a y4m fake camera (testsrc2, made with ffmpeg
 * here) and the fake microphone: VP8 and Opus both ways, what the server sees on the wire, keyframes on
 * request, bitrate feedback, the switch-up flags checked against the real encoder with ffmpeg, and a browser
 * without WebCodecs meeting a VP8 one.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { decodeMediaFrame, MediaCodec, type MediaFrame } from '../../core/media.js';
import { vp8KeyframeSize } from '../../core/vp8.js';
import type { Session } from '../../core/session.js';
import { audioMix } from '../../plugins/audio-mix/server.js';
import { chat } from '../../plugins/chat/server.js';
import { screen } from '../../plugins/screen/server.js';
import { videoRelay } from '../../plugins/video-relay/server.js';
import { web } from '../../plugins/web/server.js';
import { ARTIFACTS_DIR } from '../helpers/browser.js';
import { startTestServer, waitFor, type TestServer } from '../../core/testing.js';

/** A media frame as the server saw it, with its bytes copied. */
type Seen = Omit<MediaFrame, 'data'> & { data: Uint8Array };

let dir: string;
let server: TestServer;
let browser: Browser;
/** Frames each participant (by name) published, per channel, as they reached the server. */
const published = new Map<string, Seen[]>();
/** The mix codec each participant asked for. */
const listens = new Map<string, string>();
/** `subscribe` requests each participant sent. */
const subscriptions = new Map<string, Array<Record<string, unknown>>>();
/** Video frames the server wrote to each participant. */
const delivered = new Map<string, Seen[]>();
/** Uncaught errors of the pages. */
const pageErrors: string[] = [];

const entry = <T>(map: Map<string, T[]>, key: string) => map.get(key) ?? map.set(key, []).get(key)!;
const copy = (frame: MediaFrame): Seen => ({ ...frame, data: frame.data.slice() });

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'confab-web-media-'));
  const y4m = join(dir, 'camera.y4m');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x480:rate=15', '-t', '2', '-pix_fmt', 'yuv420p', y4m]);
  // Camera bitrate bounds wide apart, so that bitrate feedback shows in the frame sizes.
  server = await startTestServer({ plugins: [chat(), videoRelay(), screen(), audioMix(), web({ videoBitrate: 800_000, videoMinBitrate: 100_000 })] });
  const hooks = server.server.hooks;
  const record = (channel: string) => hooks.message.for(channel).tap('web-media-test', (session, message) => {
    const decoded = decodeMediaFrame(message as Uint8Array);
    if (decoded.ok) entry(published, `${session.name}/${channel}`).push(copy(decoded.frame));
  });
  record('video');
  record('screen');
  record('audio');
  hooks.message.for('audio-control').tap('web-media-test', (session, message) => {
    const request = message as Record<string, unknown>;
    if (request.op === 'listen') listens.set(session.name, String(request.codec));
  });
  hooks.message.for('video-control').tap('web-media-test', (session, message) => {
    const request = message as Record<string, unknown>;
    if (request.op === 'subscribe') entry(subscriptions, session.name).push(request);
  });
  const videoChannel = server.server.channels.ids().video;
  hooks.frameOut.tap('web-media-test', (session, type, payload) => {
    if (type !== videoChannel) return;
    const decoded = decodeMediaFrame(payload);
    if (decoded.ok) entry(delivered, session.name).push({ ...decoded.frame, data: new Uint8Array(0) });
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-video-capture=${y4m}`,
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--disable-gpu',
    ],
  });
});

test.after(async () => {
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What a browser without WebCodecs lacks. */
const WEBCODECS = ['VideoEncoder', 'VideoDecoder', 'AudioEncoder', 'AudioDecoder', 'VideoFrame', 'AudioData', 'EncodedVideoChunk', 'EncodedAudioChunk', 'MediaStreamTrackProcessor'];

/** Opens the page and joins `room` as `name`; `without` names browser APIs removed before the app loads. */
async function joinIn(name: string, room: string, options: { without?: string[] } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  if (options.without) {
    await context.addInitScript((names) => {
      for (const api of names) delete (window as unknown as Record<string, unknown>)[api];
    }, options.without);
  }
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`[${name}] ${error.message}`));
  await page.goto(`http://127.0.0.1:${server.port}/`);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Room', { exact: true }).fill(room);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.getByRole('status').filter({ hasText: `Connected as ${name}` }).waitFor();
  return page;
}

/** Turns the camera (and the microphone, unless `mic` is false) on with the control buttons. */
async function mediaOn(page: Page, mic = true): Promise<void> {
  await page.getByRole('button', { name: 'Camera', exact: true }).click();
  await page.locator('#camera-toggle[aria-pressed="true"]').waitFor();
  if (!mic) return;
  await page.getByRole('button', { name: 'Microphone', exact: true }).click();
  await page.locator('#mic-toggle[aria-pressed="true"]').waitFor();
}

/**
 * Waits until `name`'s tile shows a picture decoded from `codec` that is not one flat colour; returns a
 * signature of its pixels.
 */
async function pictureOf(page: Page, name: string, codec: 'vp8' | 'jpeg', unlike?: number): Promise<number> {
  const handle = await page.waitForFunction(([peerName, wanted, previous]) => {
    const tile = [...document.querySelectorAll<HTMLElement>('#grid .tile')].find((t) => t.getAttribute('aria-label') === peerName);
    const canvas = tile?.querySelector('canvas');
    if (!canvas || canvas.hidden || canvas.width === 0 || canvas.dataset.codec !== wanted) return false;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let min = 255;
    let max = 0;
    let signature = 0;
    for (let i = 0; i < data.length; i += 64) {
      const luma = (data[i]! + data[i + 1]! + data[i + 2]!) / 3;
      min = Math.min(min, luma);
      max = Math.max(max, luma);
      signature = (signature * 31 + Math.round(luma)) % 1_000_000_007;
    }
    return max - min > 40 && signature !== previous ? signature : false;
  }, [name, codec, unlike ?? -1] as const, { timeout: 20_000 });
  return (await handle.jsonValue()) as number;
}

/** Waits until `name`'s picture moves: two different pictures in a row. */
async function movingPictureOf(page: Page, name: string, codec: 'vp8' | 'jpeg'): Promise<void> {
  const first = await pictureOf(page, name, codec);
  await pictureOf(page, name, codec, first);
}

/** Waits until the page plays something louder than silence (the playback worklet's RMS). */
async function waitForSound(page: Page): Promise<void> {
  await page.waitForFunction(() => Number(document.body.dataset.playbackRms ?? 0) > 0.003, undefined, { timeout: 20_000 });
}

/** Closes the pages; none of them may have thrown. */
async function leave(pages: Page[]): Promise<void> {
  await Promise.all(pages.map((page) => page.context().close()));
  assert.equal(pageErrors.splice(0), [], 'no page errors');
}

function sessionOf(name: string): Session {
  const session = [...server.server.sessions.values()].find((candidate) => candidate.name === name);
  if (!session) throw new Error(`no session ${name}`);
  return session;
}

/** Sends a `video-control` message to a participant as the server's video relay would. */
function tellPublisher(name: string, message: Record<string, unknown>): void {
  sessionOf(name).sendReliableJson(server.server.channels.ids()['video-control']!, message);
}

const codecsOf = (frames: readonly Seen[]) => new Set(frames.map((frame) => frame.codec));
const meanSize = (frames: readonly Seen[]) => frames.reduce((sum, frame) => sum + frame.data.length, 0) / frames.length;

test('two WebCodecs browsers see each other in VP8 with temporal layers and hear each other through Opus', async () => {
  const alice = await joinIn('alice', 'lab');
  // bob's browser cannot read the camera track's frames: its encoder takes the <video> drawn on a canvas.
  const bob = await joinIn('bob', 'lab', { without: ['MediaStreamTrackProcessor'] });
  for (const page of [alice, bob]) assert.is(await page.evaluate(() => document.body.dataset.codecs), 'vp8Encoder vp8Decoder opusEncoder opusDecoder');
  await Promise.all([mediaOn(alice), mediaOn(bob)]);
  await Promise.all([movingPictureOf(alice, 'bob', 'vp8'), movingPictureOf(bob, 'alice', 'vp8')]);
  await Promise.all([waitForSound(alice), waitForSound(bob)]);
  await waitFor(() => (published.get('alice/video') ?? []).length >= 40, '40 frames of alice', 20_000);

  for (const name of ['alice', 'bob']) {
    const video = published.get(`${name}/video`)!;
    assert.equal([...codecsOf(video)], [MediaCodec.VP8], `${name} publishes VP8 only`);
    assert.ok(video[0]!.keyframe, `${name}'s first frame is a keyframe`);
    assert.equal([...codecsOf(published.get(`${name}/audio`)!)], [MediaCodec.OPUS], `${name} publishes Opus only`);
    assert.is(listens.get(name), 'opus', `${name} asks for the mix as Opus`);
    assert.equal(subscriptions.get(name)?.at(-1), { op: 'subscribe', senders: null, maxFps: null, layer: null, layers: null }, 'gallery view receives everything');
  }
  const layers = new Set(published.get('alice/video')!.map((frame) => frame.layer));
  assert.equal([...layers].sort(), [0, 1, 2], 'L1T3: three temporal layers');
  await alice.screenshot({ path: `${ARTIFACTS_DIR}web-media-vp8-alice.png` });
  await leave([alice, bob]);
});

/** Writes frames (all of one 640×480 stream) as an IVF file for ffmpeg. */
function writeIvf(path: string, frames: ReadonlyArray<Seen & { index: number }>): void {
  const header = Buffer.alloc(32);
  header.write('DKIF', 0);
  header.writeUInt16LE(32, 6);
  header.write('VP80', 8);
  header.writeUInt16LE(640, 12);
  header.writeUInt16LE(480, 14);
  header.writeUInt32LE(15, 16);
  header.writeUInt32LE(1, 20);
  header.writeUInt32LE(frames.length, 24);
  const parts = [header];
  for (const frame of frames) {
    const frameHeader = Buffer.alloc(12);
    frameHeader.writeUInt32LE(frame.data.length, 0);
    frameHeader.writeBigUInt64LE(BigInt(frame.index), 4);
    parts.push(frameHeader, Buffer.from(frame.data));
  }
  writeFileSync(path, Buffer.concat(parts));
}

/** The MD5 of each decoded picture, by frame index, as ffmpeg decodes `frames`. */
function decodedMd5s(frames: ReadonlyArray<Seen & { index: number }>): Map<number, string> {
  const path = join(dir, 'subset.ivf');
  writeIvf(path, frames);
  const lines = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-fps_mode', 'passthrough', '-f', 'framemd5', '-'], { encoding: 'utf8' })
    .split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  return new Map(lines.map((line, i) => [frames[i]!.index, line.split(',').at(-1)!.trim()]));
}

test('every frame flagged as a switch-up point decodes exactly when a receiver starts taking its layer there (ffmpeg)', () => {
  const all = published.get('alice/video')!;
  const start = all.findIndex((frame) => frame.keyframe);
  const frames = all.slice(start, start + 40).map((frame, index) => ({ ...frame, index }));
  const full = decodedMd5s(frames);
  assert.is(new Set(full.values()).size, frames.length, 'the picture moves in every frame (the check can see a wrong reference)');
  let checked = 0;
  for (const frame of frames) {
    if (frame.layer === 0 || !frame.switchUp) continue;
    // A receiver that had the lower layers only, and takes this frame's layer from here on.
    const climbing = frames.filter((other) => other.layer < frame.layer || (other.layer === frame.layer && other.index >= frame.index));
    const decoded = decodedMd5s(climbing);
    for (const later of climbing.filter((other) => other.index >= frame.index)) {
      assert.is(decoded.get(later.index), full.get(later.index), `frame ${later.index} after switching up to layer ${frame.layer} at frame ${frame.index}`);
    }
    checked++;
  }
  assert.ok(checked >= 10, `switch-up points of layers 1 and 2 were checked (${checked})`);
  const layer2 = frames.filter((frame) => frame.layer === 2);
  assert.ok(layer2.some((frame) => frame.switchUp) && layer2.some((frame) => !frame.switchUp), 'the first layer-2 frame after a base frame is flagged, the second is not');
});

test('a publisher makes a keyframe when the server asks, and follows bitrate feedback within its bounds', async () => {
  const ann = await joinIn('ann', 'feedback');
  const ben = await joinIn('ben', 'feedback');
  await mediaOn(ann, false);
  await pictureOf(ben, 'ann', 'vp8');
  const frames = () => published.get('ann/video')!;
  const framesSince = (mark: number) => frames().slice(mark);

  let mark = frames().length;
  tellPublisher('ann', { op: 'keyframe' });
  await waitFor(() => framesSince(mark).some((frame) => frame.keyframe), 'a keyframe after the request', 10_000);

  await waitFor(() => framesSince(mark).length >= 45, 'frames at the full rate', 20_000);
  const before = meanSize(frames().slice(-30));
  tellPublisher('ann', { op: 'bitrate', bps: 60_000 }); // under the minimum: clamped to 100 kbit/s
  mark = frames().length;
  await waitFor(() => framesSince(mark).length >= 60, 'frames at the lower rate', 20_000);
  const lowered = framesSince(mark).slice(30);
  assert.ok(meanSize(lowered) < before * 0.6, `frames shrink: ${meanSize(lowered).toFixed(0)} B from ${before.toFixed(0)} B`);
  assert.not.ok(lowered.some((frame) => frame.keyframe), 'a new bitrate makes no keyframe');

  tellPublisher('ann', { op: 'bitrate', bps: null });
  mark = frames().length;
  await waitFor(() => framesSince(mark).length >= 60, 'frames after the limit is lifted', 20_000);
  const raised = framesSince(mark).slice(30);
  assert.ok(meanSize(raised) > meanSize(lowered) * 1.5, `frames grow again: ${meanSize(raised).toFixed(0)} B`);
  await leave([ann, ben]);
});

test('a browser without WebCodecs sends JPEG and PCM, shows a placeholder for VP8, and the VP8 browser sees its JPEG camera and screen', async () => {
  const dave = await joinIn('dave', 'mixed', { without: WEBCODECS });
  const erin = await joinIn('erin', 'mixed');
  assert.is(await dave.evaluate(() => document.body.dataset.codecs), '');
  await Promise.all([mediaOn(dave), mediaOn(erin)]);

  await movingPictureOf(erin, 'dave', 'jpeg');
  const placeholder = dave.getByRole('listitem', { name: 'erin' }).getByText('Video format not supported by this browser (VP8)');
  await placeholder.waitFor();
  assert.ok(await dave.getByRole('img', { name: 'Video of erin' }).isHidden(), 'no picture drawn from VP8 bytes');
  await Promise.all([waitForSound(dave), waitForSound(erin)]);

  assert.equal([...codecsOf(published.get('dave/video')!)], [MediaCodec.JPEG]);
  assert.equal([...codecsOf(published.get('dave/audio')!)], [MediaCodec.PCM_S16LE]);
  assert.is(listens.get('dave'), 'pcm');
  assert.equal([...codecsOf(published.get('erin/video')!)], [MediaCodec.VP8]);
  assert.equal([...codecsOf(published.get('erin/audio')!)], [MediaCodec.OPUS]);
  // The VP8 sender dave cannot decode costs him only its base layer.
  const erinId = sessionOf('erin').id;
  await waitFor(() => (subscriptions.get('dave') ?? []).some((request) => (request.layers as Record<string, number> | null)?.[erinId] === 0), 'dave to take erin at base layer', 10_000);
  await dave.screenshot({ path: `${ARTIFACTS_DIR}web-media-fallback-dave.png` });

  await dave.getByRole('button', { name: 'Share screen', exact: true }).click();
  await Promise.all([screenPicture(dave, 'local'), screenPicture(erin, 'jpeg')]);
  assert.equal([...codecsOf(published.get('dave/screen')!)], [MediaCodec.JPEG]);
  await leave([dave, erin]);
});

test('speaker view takes the speaker at full rate and the thumbnails at base layer; gallery view takes everything again', async () => {
  const speaker = await joinIn('sam', 'talk');
  const thumbnail = await joinIn('tom', 'talk');
  const viewer = await joinIn('vic', 'talk');
  await Promise.all([mediaOn(speaker), mediaOn(thumbnail, false)]);
  await Promise.all([pictureOf(viewer, 'sam', 'vp8'), pictureOf(viewer, 'tom', 'vp8')]);
  const [samId, tomId] = [sessionOf('sam').id, sessionOf('tom').id];

  await viewer.getByRole('button', { name: 'Speaker view' }).click();
  await waitFor(() => (subscriptions.get('vic') ?? []).some((request) => request.layer === 0 && (request.layers as Record<string, number> | null)?.[samId] === 2), 'the speaker at full rate', 15_000);
  const subscribed = delivered.get('vic')!.length;
  const since = () => delivered.get('vic')!.slice(subscribed);
  // Frames already queued for vic when the subscription changed may still carry layers 1 and 2.
  await waitFor(() => since().filter((frame) => frame.sender === tomId).length >= 20 && since().some((frame) => frame.sender === samId && frame.layer === 2), 'frames of both', 20_000);
  const tomLayers = since().filter((frame) => frame.sender === tomId).slice(5).map((frame) => frame.layer);
  assert.equal([...new Set(tomLayers)], [0], 'the thumbnail comes at base layer only');
  await movingPictureOf(viewer, 'tom', 'vp8');
  await viewer.screenshot({ path: `${ARTIFACTS_DIR}web-media-speaker-view.png` });

  await viewer.getByRole('button', { name: 'Gallery view' }).click();
  await waitFor(() => subscriptions.get('vic')!.at(-1)!.layer === null, 'gallery view', 10_000);
  const gallery = delivered.get('vic')!.length;
  await waitFor(() => delivered.get('vic')!.slice(gallery).some((frame) => frame.sender === tomId && frame.layer === 2), 'the thumbnail at full rate again', 20_000);
  await leave([speaker, thumbnail, viewer]);
});

/** Waits until the shared-screen stage shows a picture decoded from `codec` that is not one flat colour. */
async function screenPicture(page: Page, codec: string): Promise<void> {
  await page.waitForFunction((wanted) => {
    const canvas = document.querySelector<HTMLCanvasElement>('#screen-canvas');
    if (!canvas || canvas.width === 0 || canvas.dataset.codec !== wanted || document.getElementById('screen-stage')!.hidden) return false;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let min = 255;
    let max = 0;
    for (let i = 0; i < data.length; i += 64) {
      const luma = (data[i]! + data[i + 1]! + data[i + 2]!) / 3;
      min = Math.min(min, luma);
      max = Math.max(max, luma);
    }
    return max - min > 40;
  }, codec, { timeout: 20_000 });
}

test('a screen share goes out as VP8 within 1920×1080 at a low rate, and a late joiner sees it at once', async () => {
  const pat = await joinIn('pat', 'slides');
  const quinn = await joinIn('quinn', 'slides');
  await pat.getByRole('button', { name: 'Share screen', exact: true }).click();
  await quinn.locator('#screen-caption').getByText('pat is presenting').waitFor();
  await Promise.all([screenPicture(pat, 'local'), screenPicture(quinn, 'vp8')]);
  const rae = await joinIn('rae', 'slides');
  await screenPicture(rae, 'vp8');

  const frames = published.get('pat/screen')!;
  assert.equal([...codecsOf(frames)], [MediaCodec.VP8]);
  const size = vp8KeyframeSize(frames.find((frame) => frame.keyframe)!.data)!;
  assert.ok(size.width <= 1920 && size.height <= 1080 && size.width >= 320, `shared at ${size.width}×${size.height}`);
  const spanMs = frames.at(-1)!.captureMs - frames[0]!.captureMs;
  assert.ok(frames.length - 1 <= (spanMs / 1000) * 5 + 1, `at most 5 frames a second: ${frames.length} in ${spanMs.toFixed(0)} ms`);
  await leave([pat, quinn, rae]);
});

test('/api/media serves the codec settings, and web() refuses a minimum bitrate above the maximum with CONFIG_INVALID', async () => {
  const media = await (await fetch(`http://127.0.0.1:${server.port}/api/media`)).json();
  assert.equal(media, {
    video: { bitrate: 800_000, minBitrate: 100_000 },
    screen: { maxWidth: 1920, maxHeight: 1080, fps: 5, bitrate: 1_500_000, minBitrate: 300_000, quality: 0.75 },
    audio: { bitrate: 32_000 },
  });
  for (const options of [{ videoMinBitrate: 600_000 }, { screenBitrate: 200_000 }, { audioBitrate: 1000 }]) {
    try {
      web(options);
      assert.unreachable(JSON.stringify(options));
    } catch (error) {
      assert.is((error as { code?: string }).code, 'CONFIG_INVALID', JSON.stringify(options));
    }
  }
});

test.run();
