import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import { builtinPlugins } from '../../plugins/index.js';
import { ARTIFACTS_DIR, launchBrowser } from '../helpers/browser.js';
import { startServer } from '../helpers/server.js';

async function joinIn(browser: Browser, port: number, name: string, room: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Room', { exact: true }).fill(room);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.getByRole('status').filter({ hasText: `Connected as ${name}` }).waitFor();
  return page;
}

async function say(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

test('two browsers in one room chat both ways over the browser SDK; a third room sees nothing', async () => {
  const server = await startServer(builtinPlugins());
  const browser = await launchBrowser();
  try {
    const alice = await joinIn(browser, server.port, 'alice', 'lab');
    const bob = await joinIn(browser, server.port, 'bob', 'lab');
    const eve = await joinIn(browser, server.port, 'eve', 'other');
    await alice.locator('#peers').getByText('bob').waitFor();

    await say(alice, 'hello from alice');
    await bob.locator('#messages').getByText('hello from alice').waitFor();
    await say(bob, 'hi alice, bob here');
    await alice.locator('#messages').getByText('hi alice, bob here').waitFor();
    await alice.locator('#messages').getByText('hello from alice').waitFor();

    const late = await joinIn(browser, server.port, 'carol', 'lab');
    await late.locator('#messages').getByText('hi alice, bob here').waitFor();

    assert.is(await eve.locator('#messages li').count(), 0);
    assert.is(await eve.locator('#peers li').count(), 1);
    assert.not.ok(await alice.locator('#join').isVisible(), 'the join form is hidden once joined');
    await alice.screenshot({ path: `${ARTIFACTS_DIR}web-client-alice.png` });
    await bob.screenshot({ path: `${ARTIFACTS_DIR}web-client-bob.png` });
  } finally {
    await browser.close();
    await server.stop();
  }
});

test('GET /app.js serves the bundled client; GET / the page', async () => {
  const server = await startServer(builtinPlugins());
  try {
    const page = await fetch(`http://127.0.0.1:${server.port}/`);
    assert.is(page.status, 200);
    assert.match(await page.text(), /<script type="module" src="\/app.js">/);
    const app = await fetch(`http://127.0.0.1:${server.port}/app.js`);
    assert.is(app.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.ok((await app.text()).length > 1000);
  } finally {
    await server.stop();
  }
});

test.run();
