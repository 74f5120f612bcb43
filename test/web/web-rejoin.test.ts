/**
 * The browser client after `kill -9` of the server and a restart on the same port and data directory: the
 * pages join again by themselves (no join screen), the meeting goes on, and a line typed while the server
 * was down reaches the room exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import { chatClient } from '../../plugins/chat/client.js';
import { ServeProcess } from '../cli/harness.js';
import { ARTIFACTS_DIR, launchBrowser } from '../helpers/browser.js';
import { waitFor } from '../../core/testing.js';

async function joinIn(page: Page, port: number, name: string): Promise<void> {
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Room', { exact: true }).fill('restart');
  await page.getByRole('button', { name: 'Join' }).click();
  await page.getByRole('status').filter({ hasText: `Connected as ${name}` }).waitFor();
}

async function say(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
}

test('after kill -9 and a restart, both pages and an SDK client are back in the meeting, and a line typed meanwhile arrives once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'confab-web-rejoin-'));
  const serve = new ServeProcess(['--port', '0', '--data-dir', join(dir, 'data'), '--log-level', 'warn'], dir);
  await serve.start();
  const browser = await launchBrowser();
  const dave = new ConfabClient({ url: `tcp://127.0.0.1:${serve.port}`, name: 'dave', room: 'restart', backoff: { initialMs: 50, maxMs: 500 } });
  const daveChat = dave.use(chatClient());
  try {
    await dave.connect();
    const alice = await (await browser.newContext()).newPage();
    const bob = await (await browser.newContext()).newPage();
    const pageErrors: string[] = [];
    for (const page of [alice, bob]) page.on('pageerror', (error) => pageErrors.push(String(error)));
    await joinIn(alice, serve.port, 'alice');
    await joinIn(bob, serve.port, 'bob');
    await alice.locator('#grid .tile[aria-label="bob"]').waitFor();
    await say(alice, 'before the crash');
    await bob.locator('#messages').getByText('before the crash').waitFor();

    await serve.stop('SIGKILL');
    await alice.locator('#status[data-state="reconnecting"]').waitFor();
    await say(alice, 'typed while the server was down');
    await serve.start();

    for (const [page, name] of [[alice, 'alice'], [bob, 'bob']] as const) {
      await page.getByRole('status').filter({ hasText: `Rejoined as ${name}` }).waitFor({ timeout: 20_000 });
      assert.ok(await page.locator('#join-screen').isHidden(), `${name} stays in the meeting`);
    }
    await bob.locator('#messages').getByText('typed while the server was down').waitFor({ timeout: 10_000 });
    await alice.locator('#grid .tile[aria-label="bob"]').waitFor();
    await bob.locator('#grid .tile[aria-label="alice"]').waitFor();
    await alice.screenshot({ path: `${ARTIFACTS_DIR}web-rejoined.png` });
    await waitFor(() => daveChat.messages.some((m) => m.text === 'typed while the server was down'), 'dave to have the line', 10_000);

    await say(bob, 'after the restart');
    await alice.locator('#messages').getByText('after the restart').waitFor();
    assert.is(await bob.locator('#messages li', { hasText: 'typed while the server was down' }).count(), 1, 'once on the page');
    assert.is(await alice.locator('#messages li', { hasText: 'typed while the server was down' }).count(), 1, 'once on the sender’s page');
    assert.is(daveChat.messages.filter((m) => m.text === 'typed while the server was down').length, 1, 'once for the SDK client');
    assert.equal(pageErrors, []);
  } finally {
    await dave.close();
    await browser.close();
    await serve.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
