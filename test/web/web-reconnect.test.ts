import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Page } from 'playwright-core';
import { audioMix } from '../../plugins/audio-mix/server.js';
import { chat } from '../../plugins/chat/server.js';
import { web } from '../../plugins/web/server.js';
import { ARTIFACTS_DIR, launchBrowser } from '../helpers/browser.js';
import { startTestServer, waitFor } from '../../core/testing.js';

/**
 * A loopback TCP proxy in front of the server, standing in for the network between browser and server:
 * `cut()` resets every connection through it (a Wi-Fi drop), and while `down` it resets new ones at once.
 */
class FlakyLink {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  down = false;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(targetPort: number): Promise<FlakyLink> {
    const server = createServer();
    const link = new FlakyLink(server);
    server.on('connection', (client) => {
      if (link.down) return void client.resetAndDestroy();
      const upstream = connect({ host: '127.0.0.1', port: targetPort });
      for (const socket of [client, upstream]) {
        link.#sockets.add(socket);
        socket.on('close', () => link.#sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    return link;
  }

  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  /** Resets every open connection (TCP RST to both ends). */
  cut(): void {
    for (const socket of this.#sockets) socket.resetAndDestroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((done) => this.#server.close(done));
  }
}

async function joinIn(page: Page, port: number, name: string): Promise<void> {
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Room', { exact: true }).fill('flaky');
  await page.getByRole('button', { name: 'Join' }).click();
  await page.getByRole('status').filter({ hasText: `Connected as ${name}` }).waitFor();
}

async function say(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
}

test('a network drop shows "reconnecting", then the page resumes the same session and chat goes on both ways', async () => {
  const server = await startTestServer({ plugins: [chat(), audioMix(), web()] });
  const link = await FlakyLink.start(server.port);
  const browser = await launchBrowser();
  try {
    const alice = await (await browser.newContext()).newPage();
    const bob = await (await browser.newContext()).newPage();
    const pageErrors: string[] = [];
    for (const page of [alice, bob]) page.on('pageerror', (error) => pageErrors.push(String(error)));
    // Every state the status pill goes through, in order (the reconnecting state may be short).
    await alice.addInitScript(() => {
      const states: string[] = [];
      (window as unknown as { statusStates: string[] }).statusStates = states;
      document.addEventListener('DOMContentLoaded', () => {
        const pill = document.getElementById('status')!;
        new MutationObserver(() => {
          const entry = `${pill.dataset.state}: ${pill.textContent}`;
          if (states.at(-1) !== entry) states.push(entry);
        }).observe(pill, { attributes: true, childList: true, characterData: true, subtree: true });
      });
    });
    await joinIn(alice, link.port, 'alice'); // through the flaky link
    await joinIn(bob, server.port, 'bob'); // directly
    await alice.locator('#grid .tile[aria-label="bob"]').waitFor();
    const aliceSession = [...server.server.sessions.values()].find((session) => session.name === 'alice')!;

    link.down = true;
    link.cut();
    await alice.locator('#status[data-state="reconnecting"]').waitFor();
    await alice.getByRole('status').filter({ hasText: /Connection lost — reconnecting/ }).waitFor();
    await alice.screenshot({ path: `${ARTIFACTS_DIR}web-reconnecting.png` });
    // While alice is away, bob writes; the server keeps her session and replays what she missed.
    await say(bob, 'sent while alice was away');
    await alice.getByRole('status').filter({ hasText: /attempt [2-9]/ }).waitFor();
    link.down = false;

    await alice.getByRole('status').filter({ hasText: 'Reconnected as alice' }).waitFor({ timeout: 15_000 });
    assert.is(await alice.locator('#status').getAttribute('data-state'), 'open');
    await alice.locator('#messages').getByText('sent while alice was away').waitFor();
    await say(alice, 'back again');
    await bob.locator('#messages').getByText('back again').waitFor();

    assert.is([...server.server.sessions.values()].find((session) => session.name === 'alice'), aliceSession, 'the same session resumed');
    assert.is(await bob.locator('#grid .tile[aria-label="alice"]').count(), 1, 'bob never saw alice leave');
    assert.is(await bob.locator('#messages li').count(), 2);
    const states = await alice.evaluate(() => (window as unknown as { statusStates: string[] }).statusStates);
    const open = states.indexOf('open: Connected as alice');
    const reconnecting = states.findIndex((state) => state.startsWith('reconnecting: Connection lost'));
    const reconnected = states.indexOf('open: Reconnected as alice');
    assert.ok(open >= 0 && open < reconnecting && reconnecting < reconnected, states.join(' | '));
    assert.not.ok(states.some((state) => state.startsWith('closed') || state.startsWith('idle')), states.join(' | '));
    assert.equal(pageErrors, []);
  } finally {
    await browser.close();
    await link.close();
    await server.close();
  }
});

test('when the link comes back after the server dropped the session, the page joins again as a new session and stays in the meeting', async () => {
  const server = await startTestServer({ plugins: [chat(), audioMix(), web()], server: { resumeGraceMs: 1000 } });
  const link = await FlakyLink.start(server.port);
  const browser = await launchBrowser();
  try {
    const page = await (await browser.newContext()).newPage();
    await joinIn(page, link.port, 'carol');
    const first = [...server.server.sessions.values()].find((session) => session.name === 'carol')!;
    link.down = true;
    link.cut();
    await page.locator('#status[data-state="reconnecting"]').waitFor();
    await waitFor(() => server.server.sessions.size === 0, 'the server to drop the detached session', 10_000);
    link.down = false;
    await page.getByRole('status').filter({ hasText: /Rejoined as carol/ }).waitFor({ timeout: 15_000 });
    assert.ok(await page.locator('#join-screen').isHidden(), 'no join screen');
    assert.ok(await page.locator('#meeting').isVisible());
    const again = [...server.server.sessions.values()].find((session) => session.name === 'carol');
    assert.ok(again && again !== first, 'a new session');
    await page.locator('#grid .tile[aria-label="carol (you)"]').waitFor();
  } finally {
    await browser.close();
    await link.close();
    await server.close();
  }
});

test.run();
