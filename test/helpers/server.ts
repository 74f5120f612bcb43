/**
 * Starts a real server on an ephemeral loopback port with a temporary data directory, for tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type ConfabServer } from '../../core/server.js';
import type { Plugin, ServerOptions } from '../../core/types.js';

/** A running test server. */
export interface TestServer {
  server: ConfabServer;
  port: number;
  dataDir: string;
  /** Closes the server; with `keepData` the data directory stays for a restart. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/** Starts a server with the given plugins and options on 127.0.0.1, port 0. */
export async function startServer(plugins: Plugin[] = [], options: ServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'confab-test-'));
  const server = await createServer({ server: { host: '127.0.0.1', port: 0, logLevel: 'silent', ...options, dataDir }, plugins });
  const { port } = await server.listen();
  return {
    server,
    port,
    dataDir,
    async stop({ keepData = false } = {}) {
      await server.close();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `condition()` is true, checking every 10 ms; rejects after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}
