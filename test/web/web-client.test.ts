import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { audioMix } from '../../plugins/audio-mix/server.js';
import { chat } from '../../plugins/chat/server.js';
import { files } from '../../plugins/files/server.js';
import { scheduler } from '../../plugins/scheduler/server.js';
import { screen } from '../../plugins/screen/server.js';
import { videoRelay } from '../../plugins/video-relay/server.js';
import { web } from '../../plugins/web/server.js';
import { ARTIFACTS_DIR, launchBrowser } from '../helpers/browser.js';
import { startTestServer } from '../../core/testing.js';

const allPlugins = () => [chat(), videoRelay(), screen(), audioMix(), files(), scheduler(), web()];

async function joinIn(browser: Browser, port: number, name: string, room: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[${name}] page error:`, error));
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Room', { exact: true }).fill(room);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.getByRole('status').filter({ hasText: `Connected as ${name}` }).waitFor();
  return page;
}

async function say(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
}

/** Turns camera and microphone on with the control buttons. */
async function mediaOn(page: Page): Promise<void> {
  await page.locator('#camera-toggle').click();
  await page.locator('#camera-toggle[aria-pressed="true"]').waitFor();
  await page.locator('#mic-toggle').click();
  await page.locator('#mic-toggle[aria-pressed="true"]').waitFor();
}

/** Waits until the tile of the participant named `name` shows a picture that is not one flat colour. */
async function waitForVideoOf(page: Page, name: string): Promise<void> {
  await page.waitForFunction((peerName) => {
    const tile = [...document.querySelectorAll<HTMLElement>('#grid .tile')].find((t) => t.getAttribute('aria-label') === peerName);
    const canvas = tile?.querySelector('canvas');
    if (!canvas || canvas.width === 0) return false;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let min = 255;
    let max = 0;
    for (let i = 0; i < data.length; i += 16) {
      const luma = (data[i]! + data[i + 1]! + data[i + 2]!) / 3;
      min = Math.min(min, luma);
      max = Math.max(max, luma);
    }
    return max - min > 40;
  }, name, { timeout: 15_000 });
}

/** Waits until the page plays something louder than silence (the playback worklet's RMS). */
async function waitForSound(page: Page): Promise<number> {
  const handle = await page.waitForFunction(() => {
    const rms = Number(document.body.dataset.playbackRms ?? 0);
    return rms > 0.003 ? rms : false;
  }, undefined, { timeout: 15_000 });
  return (await handle.jsonValue()) as number;
}

test('two browsers in one room see and hear each other, chat both ways and share a file; another room sees none of it', async () => {
  const server = await startTestServer({ plugins: allPlugins() });
  const browser = await launchBrowser();
  try {
    const alice = await joinIn(browser, server.port, 'alice', 'lab');
    const bob = await joinIn(browser, server.port, 'bob', 'lab');
    const eve = await joinIn(browser, server.port, 'eve', 'other');
    await alice.locator('#grid .tile[aria-label="bob"]').waitFor();

    await Promise.all([mediaOn(alice), mediaOn(bob)]);
    await Promise.all([waitForVideoOf(alice, 'bob'), waitForVideoOf(bob, 'alice')]);
    const [aliceHears, bobHears] = await Promise.all([waitForSound(alice), waitForSound(bob)]);
    assert.ok(aliceHears > 0.003 && bobHears > 0.003);

    await say(alice, 'hello from alice');
    await bob.locator('#messages').getByText('hello from alice').waitFor();
    await say(bob, 'hi alice, bob here');
    await alice.locator('#messages').getByText('hi alice, bob here').waitFor();

    const content = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31 + (i >> 8)) & 0xff));
    await alice.getByRole('tab', { name: /Files/ }).click();
    await alice.getByLabel('Share a file').setInputFiles({ name: 'notes.bin', mimeType: 'application/octet-stream', buffer: content });
    await alice.getByRole('button', { name: 'Upload' }).click();
    await bob.getByRole('tab', { name: /Files/ }).click();
    const downloadButton = bob.getByRole('button', { name: /Download notes\.bin/ });
    await downloadButton.waitFor();
    const [download] = await Promise.all([bob.waitForEvent('download'), downloadButton.click()]);
    assert.is(download.suggestedFilename(), 'notes.bin');
    const downloaded = readFileSync((await download.path())!);
    assert.is(createHash('sha256').update(downloaded).digest('hex'), createHash('sha256').update(content).digest('hex'));

    // The other room: only eve's own tile, no messages, no files, no video of anyone.
    assert.is(await eve.locator('#grid .tile').count(), 1);
    assert.is(await eve.locator('#messages li').count(), 0);
    await eve.getByRole('tab', { name: /Files/ }).click();
    assert.is(await eve.locator('#files li').count(), 0);
    assert.is(await eve.locator('#grid canvas').count(), 0);
    assert.ok(Number((await eve.evaluate(() => document.body.dataset.playbackRms)) ?? 0) < 0.003, 'eve hears nothing');

    await alice.screenshot({ path: `${ARTIFACTS_DIR}web-client-alice.png` });
    await bob.screenshot({ path: `${ARTIFACTS_DIR}web-client-bob.png` });
    await eve.screenshot({ path: `${ARTIFACTS_DIR}web-client-eve-other-room.png` });
    await alice.setViewportSize({ width: 390, height: 844 });
    await alice.screenshot({ path: `${ARTIFACTS_DIR}web-client-alice-phone.png`, fullPage: true });
  } finally {
    await browser.close();
    await server.close();
  }
});

test('the server serves the page, the bundles (gzip too), /api/config and /api/rooms', async () => {
  const server = await startTestServer({ plugins: [chat(), web({ videoFps: 10 })] });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const page = await fetch(`${base}/`);
    assert.is(page.status, 200);
    assert.match(await page.text(), /<script type="module" src="\/app.js">/);
    for (const path of ['/app.js', '/worklets/capture.js', '/worklets/playback.js']) {
      const response = await fetch(`${base}${path}`, { headers: { 'accept-encoding': 'identity' } });
      assert.is(response.headers.get('content-type'), 'text/javascript; charset=utf-8', path);
      assert.ok((await response.text()).length > 200, path);
    }
    const raw = await new Promise<Buffer>((resolve, reject) => {
      import('node:http').then(({ get }) => get(`${base}/app.js`, { headers: { 'accept-encoding': 'gzip' } }, (response) => {
        assert.is(response.headers['content-encoding'], 'gzip');
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => resolve(Buffer.concat(chunks)));
      }).on('error', reject), reject);
    });
    assert.match(gunzipSync(raw).toString(), /confab-capture|ConfabClient|wss/);
    const config = await (await fetch(`${base}/api/config`)).json();
    assert.equal(config, { video: { width: 640, height: 480, fps: 10, quality: 0.7 } });
    const rooms = await (await fetch(`${base}/api/rooms`)).json();
    assert.equal(rooms, { rooms: [], meetings: [] });
    assert.is((await fetch(`${base}/api/nothing`)).status, 404);
    assert.is((await fetch(`${base}/app.js`, { method: 'POST' })).status, 405);
  } finally {
    await server.close();
  }
});

test('web() refuses wrong options with CONFIG_INVALID', () => {
  for (const options of [{ videoFps: 0 }, { jpegQuality: 2 }, { videoWidth: 1.5 }, { minfy: true }]) {
    try {
      web(options as never);
      assert.unreachable(JSON.stringify(options));
    } catch (error) {
      assert.is((error as { code?: string }).code, 'CONFIG_INVALID');
    }
  }
});

test.run();
