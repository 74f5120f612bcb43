/**
 * The older test helper, kept for the tests that use it: a thin wrapper of the public harness in
 * core/testing.ts (`startTestServer`), which new tests should use directly.
 */
import { sleep, startTestServer, waitFor as waitUntil } from '../../core/testing.js';
import type { ConfabServer } from '../../core/server.js';
import type { Plugin, ServerOptions } from '../../core/types.js';

export { sleep };

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
  const lab = await startTestServer({ plugins, server: options });
  return { server: lab.server, port: lab.port, dataDir: lab.dataDir, stop: (stopOptions) => lab.close(stopOptions) };
}

/** Waits until `condition()` is true, checking every 10 ms; rejects after `timeoutMs`. */
export function waitFor(condition: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  return waitUntil(condition, what, timeoutMs);
}
