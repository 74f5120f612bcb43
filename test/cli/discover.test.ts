import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { DiscoveredServer } from '../../plugins/discovery/client.js';
import { discovery } from '../../plugins/discovery/server.js';
import { startTestServer } from '../../core/testing.js';

const CLI = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'cli/confab.mjs');

function confab(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

/** A UDP port free right now on this machine (bound and released). */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

test('confab discover prints the servers beaconing on loopback, as a table or JSON', async () => {
  const beaconPort = await freeUdpPort();
  const one = await startTestServer({ plugins: [discovery({ port: beaconPort, intervalMs: 100 })], server: { name: 'alpha' } });
  const two = await startTestServer({ plugins: [discovery({ port: beaconPort, intervalMs: 100 })], server: { name: 'beta' } });
  try {
    const json = await confab(['discover', '--port', String(beaconPort), '--timeout', '1.5', '--json']);
    assert.is(json.code, 0, json.stderr);
    const servers = JSON.parse(json.stdout) as DiscoveredServer[];
    assert.equal(servers.map((s) => [s.name, s.url]), [['alpha', `tcp://127.0.0.1:${one.port}`], ['beta', `tcp://127.0.0.1:${two.port}`]]);

    const table = await confab(['discover', '--port', String(beaconPort), '--timeout', '1']);
    assert.is(table.code, 0, table.stderr);
    assert.match(table.stdout, /^NAME\s+ADDRESS\s+VERSION\s+ROOMS\s+AUTH$/m);
    assert.match(table.stdout, new RegExp(`^alpha\\s+127\\.0\\.0\\.1:${one.port}\\s+\\S+\\s+0\\s+open$`, 'm'));
  } finally {
    await one.close();
    await two.close();
  }
  const none = await confab(['discover', '--port', String(beaconPort), '--timeout', '0.3']);
  assert.is(none.code, 0);
  assert.is(none.stdout, 'No Confab server heard within 0.3 s.\n');
});

test('confab discover refuses a bad --timeout or --port with exit code 2', async () => {
  for (const args of [['--timeout', '0'], ['--timeout', 'soon'], ['--port', '70000'], ['--port', '12ab']]) {
    const result = await confab(['discover', ...args]);
    assert.is(result.code, 2, args.join(' '));
    assert.match(result.stderr, new RegExp(args[0]!));
  }
});

test.run();
