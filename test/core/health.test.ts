/**
 * `/health/live`, `/health/ready` and `/health` (core/http.ts): liveness answers while the process does;
 * readiness waits for every plugin to start (setup and the `listen` hook) and for an open store, and ends
 * when the server closes; `/health` keeps its summary and says `ready`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { definePlugin } from '../../core/config.js';
import { createServer } from '../../core/server.js';
import { waitFor } from '../../core/testing.js';
import { chat } from '../../plugins/chat/server.js';

async function get(port: number, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.json() as Record<string, unknown> };
}

test('/health/ready is 503 until every plugin started (the listen hook), then 200; /health/live is 200 throughout', async () => {
  let release!: () => void;
  const started = new Promise<void>((resolve) => (release = resolve));
  const slowStart = definePlugin({
    name: 'slow-start',
    setup(ctx) {
      ctx.hooks.listen.tapPromise('slow-start', () => started);
    },
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'confab-health-test-'));
  const server = await createServer({ server: { host: '127.0.0.1', port: 0, dataDir, logLevel: 'silent' }, plugins: [chat(), slowStart] });
  try {
    const listening = server.listen();
    await waitFor(() => server.address !== undefined, 'the port to be bound');
    const port = server.address!.port;
    const starting = await get(port, '/health/ready');
    assert.is(starting.status, 503);
    assert.equal(starting.body, { status: 'not ready', ready: false, plugins: 'starting', store: 'open', closing: false });
    assert.equal(await get(port, '/health/live'), { status: 200, body: { status: 'ok' } });
    const summary = await get(port, '/health');
    assert.is(summary.status, 200, '/health stays 200 (liveness), as before');
    assert.is(summary.body.status, 'ok');
    assert.is(summary.body.ready, false);
    assert.equal(summary.body.plugins, ['chat', 'slow-start']);

    release();
    await listening;
    const ready = await get(port, '/health/ready');
    assert.is(ready.status, 200);
    assert.equal(ready.body, { status: 'ready', ready: true, plugins: 'started', store: 'open', closing: false });
    const healthy = (await get(port, '/health')).body as { ready: boolean; store: { dialect: string; location: string; reachable: boolean; pingMs: number } };
    assert.is(healthy.ready, true);
    assert.is(healthy.store.dialect, 'sqlite');
    assert.is(healthy.store.location, join(dataDir, 'confab.db'));
    assert.is(healthy.store.reachable, true);
    assert.type(healthy.store.pingMs, 'number');
  } finally {
    release();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('/health/ready is 503 once the store is closed, and while the server closes; a server without a store is ready', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'confab-health-test-'));
  const storeless = await createServer({ server: { host: '127.0.0.1', port: 0, dataDir: join(dataDir, 'none'), logLevel: 'silent' }, plugins: [] });
  const server = await createServer({ server: { host: '127.0.0.1', port: 0, dataDir, logLevel: 'silent' }, plugins: [chat()] });
  try {
    const { port: bare } = await storeless.listen();
    assert.equal((await get(bare, '/health/ready')).body, { status: 'ready', ready: true, plugins: 'started', store: 'unused', closing: false });

    const { port } = await server.listen();
    assert.is((await get(port, '/health/ready')).status, 200);
    server.store.close();
    const closed = await get(port, '/health/ready');
    assert.is(closed.status, 503);
    assert.is(closed.body.store, 'closed');
    assert.equal((await get(port, '/health')).body.store, { dialect: 'sqlite', location: join(dataDir, 'confab.db'), reachable: false });
    assert.is((await get(bare, '/health')).body.store, undefined, 'no store in use, none shown');
    assert.is((await get(port, '/health/live')).status, 200, 'alive all the same');

    const closing = storeless.close();
    assert.equal(storeless.readiness, { ready: false, plugins: 'started', store: 'unused', closing: true });
    await closing;
  } finally {
    await Promise.all([server.close(), storeless.close()]);
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();
