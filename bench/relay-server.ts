/**
 * The Confab server under test for the video relay bench, in a process of its own: the real core
 * (`createServer`) with the video-relay plugin at its defaults, log level `warn`, the connection limits raised
 * (all bench clients share one address), a temporary data directory
 * (removed at exit) and port 0. Prints `{"port":…,"pid":…,"dataDir":…}` once it listens; SIGTERM, SIGINT or
 * (with --exit-with-parent) the parent closing stdin close it cleanly.
 *
 *   node --import tsx bench/relay-server.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from '../core/server.js';
import { videoRelay } from '../plugins/video-relay/server.js';

const dataDir = mkdtempSync(join(tmpdir(), 'confab-bench-'));
process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));

try {
  // Every bench client connects from 127.0.0.1, so the per-address connection limit (256 by default, meant
  // for one machine on a LAN) is raised to let 400 subscribers in; nothing else differs from the defaults.
  const server = await createServer({
    server: { host: '127.0.0.1', port: 0, dataDir, logLevel: 'warn', maxConnectionsPerAddress: 2048, maxConnections: 2048 },
    plugins: [videoRelay()],
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop).on('SIGINT', stop);
  if (process.argv.includes('--exit-with-parent')) process.stdin.on('end', stop).resume();
  const { port } = await server.listen();
  console.log(JSON.stringify({ port, pid: process.pid, dataDir }));
} catch (error) {
  console.error(`relay-server: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
}
