/**
 * The codec bench's browser publisher: Debian's Chromium (playwright-core), its fake camera and microphone
 * reading the clip's y4m and wav, on the web client served by the rig's server; it joins a room and turns
 * camera and microphone on, as a person would. With `withoutWebCodecs` the WebCodecs APIs are removed before
 * the page loads, so the client takes its fallback (JPEG and PCM).
 */
import { chromium, type Browser } from 'playwright-core';

/** Options of `publishFromBrowser`. */
export interface BrowserPublishOptions {
  /** The server's HTTP port (the web plugin). */
  port: number;
  room: string;
  name: string;
  y4m: string;
  wav: string;
  /** How long to publish once camera and microphone are on. */
  seconds: number;
  withoutWebCodecs?: boolean;
  log: (line: string) => void;
}

/** What the page said about itself. */
export interface BrowserPublication {
  /** The codecs the client found (`document.body.dataset.codecs`), e.g. `vp8Encoder vp8Decoder opusEncoder opusDecoder`. */
  support: string;
}

/** The APIs a browser without WebCodecs lacks. */
const WEBCODECS = ['VideoEncoder', 'VideoDecoder', 'AudioEncoder', 'AudioDecoder', 'VideoFrame', 'AudioData', 'EncodedVideoChunk', 'EncodedAudioChunk', 'MediaStreamTrackProcessor'];

/**
 * Publishes the clip from Chromium for `seconds`, then closes the browser.
 *
 * @throws Error when Chromium is missing or the page does not get there (the message says where it stopped).
 */
export async function publishFromBrowser(options: BrowserPublishOptions): Promise<BrowserPublication> {
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: [
        '--no-sandbox',
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        `--use-file-for-fake-video-capture=${options.y4m}`,
        `--use-file-for-fake-audio-capture=${options.wav}`,
        '--autoplay-policy=no-user-gesture-required',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
        '--disable-gpu',
      ],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    if (options.withoutWebCodecs) {
      await context.addInitScript((names) => {
        for (const api of names) delete (window as unknown as Record<string, unknown>)[api];
      }, WEBCODECS);
    }
    const page = await context.newPage();
    page.on('pageerror', (error) => options.log(`browser page error: ${error.message}`));
    await page.goto(`http://127.0.0.1:${options.port}/`);
    await page.getByLabel('Your name').fill(options.name);
    await page.getByLabel('Room', { exact: true }).fill(options.room);
    await page.getByRole('button', { name: 'Join' }).click();
    await page.getByRole('status').filter({ hasText: `Connected as ${options.name}` }).waitFor({ timeout: 20_000 });
    const support = (await page.evaluate(() => document.body.dataset.codecs)) ?? '';
    await page.getByRole('button', { name: 'Camera', exact: true }).click();
    await page.locator('#camera-toggle[aria-pressed="true"]').waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: 'Microphone', exact: true }).click();
    await page.locator('#mic-toggle[aria-pressed="true"]').waitFor({ timeout: 20_000 });
    await page.waitForTimeout(options.seconds * 1000);
    return { support };
  } finally {
    await browser?.close();
  }
}
