/**
 * The Confab server under test, in a process of its own: the real core (`createServer`) with the chat
 * plugin at its defaults, log level `warn`, a temporary data directory (removed at exit) and port 0. Prints
 * one JSON line `{"port":…,"pid":…,"dataDir":…}` on stdout once it listens (the parent removes the
 * directory too if this process had to be killed). SIGTERM or SIGINT (or, with
 * --exit-with-parent, the parent closing stdin) closes it cleanly: `await server.close()`, then the data
 * directory is removed.
 *
 *   node --import tsx bench/confab-server.ts [--history-limit N]
 *
 * `--history-limit` passes the chat plugin's `historyLimit` (default: the plugin's own, 100); 0 turns the
 * history store off, which only serves to measure what the store costs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from '../core/server.js';
import { chat } from '../plugins/chat/server.js';

const dataDir = mkdtempSync(join(tmpdir(), 'confab-bench-'));
const removeDataDir = () => rmSync(dataDir, { recursive: true, force: true });
process.on('exit', removeDataDir);

let stopping: Promise<void> | undefined;
function stop(server?: { close(): Promise<void> }): Promise<void> {
  stopping ??= (async () => {
    try {
      await server?.close();
    } catch (error) {
      console.error(`confab-server: close failed: ${String(error)}`);
    } finally {
      removeDataDir();
      process.exit(0);
    }
  })();
  return stopping;
}

try {
  const at = process.argv.indexOf('--history-limit');
  const chatOptions = at > 0 ? { historyLimit: Number(process.argv[at + 1]) } : {};
  const server = await createServer({ server: { host: '127.0.0.1', port: 0, dataDir, logLevel: 'warn', jsonMessagesPerSecond: 1_000_000 }, plugins: [chat(chatOptions)] });
  process.on('SIGTERM', () => void stop(server)).on('SIGINT', () => void stop(server));
  if (process.argv.includes('--exit-with-parent')) process.stdin.on('end', () => void stop(server)).resume();
  const { port } = await server.listen();
  console.log(JSON.stringify({ port, pid: process.pid, dataDir }));
} catch (error) {
  console.error(`confab-server: ${error instanceof Error ? error.stack : String(error)}`);
  removeDataDir();
  process.exit(1);
}
