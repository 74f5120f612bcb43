import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chat } from '../../plugins/chat/server.js';
import { web } from '../../plugins/web/server.js';
import { ARTIFACTS_DIR, launchBrowser } from '../helpers/browser.js';
import { startTestServer } from '../../core/testing.js';

test('over https with the self-signed certificate the page is a secure context and joins over wss', async () => {
  const server = await startTestServer({ plugins: [chat(), web()], server: { tls: 'self-signed' } });
  const browser = await launchBrowser();
  try {
    // The test trusts the certificate as a person would after checking its fingerprint.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`https://127.0.0.1:${server.port}/`);
    assert.ok(await page.evaluate(() => window.isSecureContext && typeof AudioWorkletNode === 'function'));
    await page.getByLabel('Your name').fill('secure');
    await page.getByLabel('Room', { exact: true }).fill('tls-room');
    await page.getByRole('button', { name: 'Join' }).click();
    await page.getByRole('status').filter({ hasText: 'Connected as secure' }).waitFor();
    const session = [...server.server.sessions.values()][0]!;
    assert.is(session.name, 'secure');
    await page.getByLabel('Message', { exact: true }).fill('sent over wss');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.locator('#messages').getByText('sent over wss').waitFor();
    await page.screenshot({ path: `${ARTIFACTS_DIR}web-client-https.png` });
  } finally {
    await browser.close();
    await server.close();
  }
});

test.run();
