/**
 * Plugins' web extensions in Chromium: the polls example's tab (create, vote, counts that change live,
 * close) and the hand-raise example's tile overlay, reached by their visible labels as a person would.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../../core/testing.js';
import { chat } from '../../plugins/chat/server.js';
import { handRaise } from '../../plugins/examples/hand-raise/server.js';
import { polls } from '../../plugins/examples/polls/server.js';
import { web } from '../../plugins/web/server.js';
import { ARTIFACTS_DIR, launchBrowser } from '../helpers/browser.js';

let lab: TestServer;
let browser: Browser;

test.before(async () => {
  lab = await startTestServer({ plugins: [chat(), polls(), handRaise(), web()] });
  browser = await launchBrowser();
});
test.after(async () => {
  await browser?.close();
  await lab?.close();
});

async function joinIn(name: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  page.on('pageerror', (error) => console.error(`[${name}] page error:`, error));
  await page.goto(`http://127.0.0.1:${lab.port}/`);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Room', { exact: true }).fill('lab');
  await page.getByRole('button', { name: 'Join' }).click();
  await page.getByRole('status').filter({ hasText: `Connected as ${name}` }).waitFor();
  return page;
}

/** The row of `option` in the poll asking `question`, as the page shows it. */
const optionRow = (page: Page, question: string, option: string) =>
  page.getByRole('listitem', { name: question }).getByRole('listitem').filter({ hasText: option });

test('two browsers use the Polls tab: create, vote, see the counts change live, close', async () => {
  const alice = await joinIn('alice');
  const bob = await joinIn('bob');
  try {
    for (const page of [alice, bob]) await page.getByRole('tab', { name: 'Polls' }).click();
    await alice.getByLabel('Question').fill('Lunch?');
    await alice.getByLabel('Options (one per line)').fill('pizza\nsoup');
    await alice.getByRole('button', { name: 'Create poll' }).click();

    const bobsPoll = bob.getByRole('listitem', { name: 'Lunch?' });
    await bobsPoll.getByText('open · 0 votes · by alice').waitFor();
    await bob.getByRole('button', { name: 'Vote for soup' }).click();
    await optionRow(alice, 'Lunch?', 'soup').getByText('1 vote (100%)').waitFor();
    await bobsPoll.getByText('you voted soup').waitFor();
    assert.ok(await bob.getByRole('button', { name: 'Vote for pizza' }).isDisabled(), 'one vote per participant');

    await alice.getByRole('button', { name: 'Vote for pizza' }).click();
    await optionRow(bob, 'Lunch?', 'pizza').getByText('1 vote (50%)').waitFor();
    assert.is(await bob.getByRole('button', { name: 'Close poll Lunch?' }).count(), 0, 'only the creator is offered Close');
    await alice.getByRole('button', { name: 'Close poll Lunch?' }).click();
    await bobsPoll.getByText('closed · 2 votes · by alice · you voted soup').waitFor();
    await alice.screenshot({ path: `${ARTIFACTS_DIR}web-polls.png` });
  } finally {
    await alice.context().close();
    await bob.context().close();
  }
});

test('the hand-raise overlay: a button on one\'s own tile, a numbered ✋ on the tile of whoever raised a hand', async () => {
  const alice = await joinIn('alice');
  const bob = await joinIn('bob');
  try {
    const bobsTileForAlice = alice.locator('#grid .tile[aria-label="bob"]');
    await bobsTileForAlice.waitFor();
    assert.is(await bobsTileForAlice.getByRole('button').count(), 0, 'no button on someone else\'s tile');
    await bob.getByRole('button', { name: 'Raise hand' }).click();
    await bobsTileForAlice.getByRole('img', { name: "bob's hand is up, number 1 in the queue" }).waitFor();
    await bob.getByRole('button', { name: 'Lower hand', pressed: true }).waitFor();
    await alice.getByRole('button', { name: 'Raise hand' }).click();
    await bob.locator('#grid .tile[aria-label="alice"]').getByRole('img', { name: "alice's hand is up, number 2 in the queue" }).waitFor();

    await bob.getByRole('button', { name: 'Lower hand' }).click();
    await bobsTileForAlice.getByRole('img').waitFor({ state: 'hidden' });
    await alice.locator('#grid .tile[aria-label="alice (you)"]').getByRole('img', { name: 'your hand is up, number 1 in the queue' }).waitFor();

    await alice.getByRole('button', { name: 'Leave' }).click();
    await alice.getByRole('heading', { name: 'Join a meeting' }).waitFor();
    assert.is(await alice.getByRole('tab', { name: 'Polls', includeHidden: true }).count(), 0, 'the plugin tab goes with the meeting');
    assert.is(await alice.locator('.overlay').count(), 0, 'so do the overlays');
  } finally {
    await alice.context().close();
    await bob.context().close();
  }
});

test.run();
