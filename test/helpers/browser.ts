/**
 * Debian's Chromium driven by playwright-core, kept off the network, for end-to-end tests.
 */
import { mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where tests write screenshots (gitignored). */
export const ARTIFACTS_DIR = new URL('../../test-artifacts/', import.meta.url).pathname;

/** Launches headless Chromium with fake media devices and no background network traffic. */
export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--disable-gpu',
    ],
  });
}
