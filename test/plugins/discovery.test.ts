import { createSocket, type Socket } from 'node:dgram';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import { definePlugin } from '../../core/config.js';
import { VERSION } from '../../core/version.js';
import { beaconTargets, ipv4Broadcast, type Interfaces } from '../../plugins/discovery/broadcast.js';
import { ServerBrowser, discover, type DiscoveredServer } from '../../plugins/discovery/client.js';
import { BEACON_MAGIC, MAX_BEACON_BYTES, encodeBeacon, parseBeacon, type Beacon } from '../../plugins/discovery/protocol.js';
import { auth } from '../../plugins/auth/server.js';
import { discovery } from '../../plugins/discovery/server.js';
import { sleep, startTestServer, waitFor, type TestServer } from '../../core/testing.js';

const running: Array<{ close(): Promise<void> }> = [];

test.after.each(async () => {
  for (const thing of running.splice(0).reverse()) await thing.close();
});

/** A browser on an ephemeral port of every interface, with a short TTL; closed after each test. */
async function browser(ttlMs = 600): Promise<ServerBrowser> {
  const b = new ServerBrowser({ port: 0, ttlMs });
  await b.start();
  running.push(b);
  return b;
}

/** A server on 127.0.0.1 beaconing to `beaconPort` every `intervalMs`; stopped after each test. */
async function beaconingServer(beaconPort: number, intervalMs = 100, name = 'lab-pc', extra = [] as ReturnType<typeof definePlugin>[]): Promise<TestServer> {
  const server = await startTestServer({ plugins: [...extra, discovery({ port: beaconPort, intervalMs })], server: { name } });
  // close() is idempotent: a test may close it early.
  running.push(server);
  return server;
}

/** A UDP socket on 127.0.0.1 that records whatever is sent to it; closed after each test. */
async function udpSocket(port = 0): Promise<{ socket: Socket; received: Buffer[] }> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  const received: Buffer[] = [];
  socket.on('message', (message) => received.push(message));
  await new Promise<void>((resolve) => socket.bind(port, port === 0 ? '127.0.0.1' : '0.0.0.0', () => resolve()));
  running.push({ close: () => new Promise<void>((resolve) => socket.close(() => resolve())) });
  return { socket, received };
}

function sendTo(socket: Socket, port: number, datagram: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => socket.send(datagram, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
}

const beacon: Beacon = { name: 'lab-pc', version: '0.1.0', port: 5000, auth: false, rooms: 2 };

test('parseBeacon() reads what encodeBeacon() writes and refuses foreign, oversized and malformed datagrams', () => {
  assert.equal(parseBeacon(encodeBeacon(beacon)), beacon);
  assert.equal(parseBeacon(encodeBeacon({ ...beacon, closing: true })), { ...beacon, closing: true });
  assert.equal(parseBeacon(Buffer.from(`${BEACON_MAGIC}${JSON.stringify({ ...beacon, future: 1 })}`)), beacon, 'unknown fields are ignored');
  const bad = [
    Buffer.alloc(0),
    Buffer.from(BEACON_MAGIC),
    Buffer.from(`CONFAB-BEACON/2\n${JSON.stringify(beacon)}`),
    Buffer.from(`SSDP ${JSON.stringify(beacon)}`),
    Buffer.from(`${BEACON_MAGIC}{"name":`),
    Buffer.from(`${BEACON_MAGIC}[1,2]`),
    Buffer.concat([Buffer.from(BEACON_MAGIC), Buffer.from([0xff, 0xfe, 0x7b])]),
    Buffer.from(`${BEACON_MAGIC}${JSON.stringify({ ...beacon, name: 'x'.repeat(MAX_BEACON_BYTES) })}`),
    encodeBeacon({ ...beacon, port: 70000 }),
    encodeBeacon({ ...beacon, port: 0 }),
    encodeBeacon({ ...beacon, name: '' }),
    encodeBeacon({ ...beacon, name: 'evil\u001b[2J' }),
    encodeBeacon({ ...beacon, name: 'n'.repeat(65) }),
    encodeBeacon({ ...beacon, version: '1.0 <script>' }),
    encodeBeacon({ ...beacon, auth: 'no' as unknown as boolean }),
    encodeBeacon({ ...beacon, rooms: -1 }),
    encodeBeacon({ ...beacon, rooms: 1.5 }),
    encodeBeacon({ ...beacon, closing: 'yes' as unknown as boolean }),
  ];
  for (const datagram of bad) assert.is(parseBeacon(datagram), undefined, datagram.toString('utf8').slice(0, 60));
});

test('ipv4Broadcast() sets the host bits; beaconTargets() keeps to the interfaces the server is bound to', () => {
  assert.is(ipv4Broadcast('192.168.1.20', '255.255.255.0'), '192.168.1.255');
  assert.is(ipv4Broadcast('10.1.2.3', '255.255.240.0'), '10.1.15.255');
  assert.is(ipv4Broadcast('127.0.0.1', '255.0.0.0'), '127.255.255.255');
  assert.is(ipv4Broadcast('10.0.0.1', '255.255.255.255'), undefined, '/32 has no broadcast');
  assert.is(ipv4Broadcast('10.0.0.1', '255.255.255.254'), undefined, '/31 has no broadcast');
  assert.is(ipv4Broadcast('not an address', '255.0.0.0'), undefined);
  // An interface list as os.networkInterfaces() returns it: described here, never sent to.
  const entry = (address: string, netmask: string, family: 'IPv4' | 'IPv6' = 'IPv4') =>
    ({ address, netmask, family, mac: '00:00:00:00:00:00', internal: false, cidr: null }) as never;
  const interfaces: Interfaces = {
    lo: [entry('127.0.0.1', '255.0.0.0'), entry('::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'IPv6')],
    eth0: [entry('192.168.1.20', '255.255.255.0'), entry('fe80::1', 'ffff:ffff:ffff:ffff::', 'IPv6')],
    wlan0: [entry('10.1.2.3', '255.255.240.0')],
    tun0: [entry('10.8.0.2', '255.255.255.255')],
  };
  assert.equal(beaconTargets('127.0.0.1', interfaces), { bindAddress: '127.0.0.1', addresses: ['127.255.255.255'] });
  assert.equal(beaconTargets('localhost', interfaces), { bindAddress: '127.0.0.1', addresses: ['127.255.255.255'] });
  assert.equal(beaconTargets('0.0.0.0', interfaces), { bindAddress: '0.0.0.0', addresses: ['127.255.255.255', '192.168.1.255', '10.1.15.255'] });
  assert.equal(beaconTargets('192.168.1.20', interfaces), { bindAddress: '192.168.1.20', addresses: ['192.168.1.255'] });
  assert.equal(beaconTargets('::1', interfaces).addresses, [], 'an IPv6 address has no broadcast');
});

test('a browser finds a server on loopback with its name, version, port, auth and rooms, and updates the room count', async () => {
  const b = await browser(2000);
  const updated: DiscoveredServer[] = [];
  b.on('updated', (server) => updated.push(server));
  const server = await beaconingServer(b.port!);
  await waitFor(() => b.servers.length === 1, 'the server to be found', 3000);
  const [found] = b.servers;
  assert.equal({ ...found, lastSeen: 0 }, {
    name: 'lab-pc', version: VERSION, host: '127.0.0.1', port: server.port, url: `tcp://127.0.0.1:${server.port}`,
    auth: false, rooms: 0, lastSeen: 0,
  });
  const client = new ConfabClient({ url: found.url, name: 'alice', room: 'lab1' });
  await client.connect();
  await waitFor(() => b.servers[0]?.rooms === 1, 'the room count to reach 1', 3000);
  assert.is(updated.at(-1)?.rooms, 1);
  await client.close();
});

test('a server that stops beaconing is forgotten after the TTL, and kept while it beacons', async () => {
  const b = await browser(400);
  const found: DiscoveredServer[] = [];
  const lost: DiscoveredServer[] = [];
  b.on('found', (server) => found.push(server));
  b.on('lost', (server) => lost.push(server));
  // One beacon at listen, the next an hour later: the server stays up but goes quiet.
  const quiet = await beaconingServer(b.port!, 3_600_000, 'quiet');
  const chatty = await beaconingServer(b.port!, 100, 'chatty');
  await waitFor(() => found.length === 2, 'both servers', 3000);
  await waitFor(() => lost.length === 1, 'the quiet one to be forgotten', 3000);
  assert.is(lost[0].port, quiet.port);
  assert.ok(Date.now() - lost[0].lastSeen >= 400, 'not before its TTL');
  await sleep(800);
  assert.equal(b.servers.map((s) => s.port), [chatty.port], 'the beaconing one stays, across two TTLs');
});

test('two servers are both listed', async () => {
  const b = await browser(2000);
  const one = await beaconingServer(b.port!, 100, 'alpha');
  const two = await beaconingServer(b.port!, 100, 'beta');
  await waitFor(() => b.servers.length === 2, 'two servers', 3000);
  assert.equal(b.servers.map((s) => [s.name, s.port]), [['alpha', one.port], ['beta', two.port]]);
});

test('auth is announced as true when the server runs the auth plugin (its token service)', async () => {
  const b = await browser(2000);
  await beaconingServer(b.port!, 100, 'locked', [auth()]);
  await waitFor(() => b.servers.length === 1, 'the server', 3000);
  assert.is(b.servers[0].auth, true);
});

test('garbage, foreign and oversized datagrams are ignored, the real server stays listed, and nothing is answered', async () => {
  const b = await browser(2000);
  const server = await beaconingServer(b.port!);
  await waitFor(() => b.servers.length === 1, 'the server', 3000);
  const before = b.servers[0];
  const attacker = await udpSocket();
  const garbage = [
    Buffer.from('hello?'),
    Buffer.alloc(0),
    Buffer.from(`M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n`),
    Buffer.from(`${BEACON_MAGIC}not json`),
    Buffer.concat([Buffer.from(BEACON_MAGIC), Buffer.alloc(8000, 0x20), Buffer.from(JSON.stringify(beacon))]),
    Buffer.alloc(60_000, 0x41),
    encodeBeacon({ ...beacon, port: 99999 }),
    encodeBeacon({ ...beacon, name: 'spoof', closing: 'yes' as unknown as boolean }),
    // A well-formed goodbye for a server the browser does not list changes nothing either.
    encodeBeacon({ ...beacon, port: server.port + 1, closing: true }),
  ];
  for (const datagram of garbage) await sendTo(attacker.socket, b.port!, datagram);
  await waitFor(() => b.ignored >= garbage.length - 1, 'the garbage to arrive', 3000);
  await sleep(300);
  assert.is(b.ignored, garbage.length - 1, 'all but the valid goodbye were counted as ignored');
  assert.is(b.servers.length, 1);
  assert.equal({ ...b.servers[0], lastSeen: 0 }, { ...before, lastSeen: 0 });
  assert.is(attacker.received.length, 0, 'the browser never answers');
});

test('a closing server says so and stops beaconing: the browser forgets it at once', async () => {
  const b = await browser(60_000);
  const lost: DiscoveredServer[] = [];
  b.on('lost', (s) => lost.push(s));
  const listener = await udpSocket(b.port!);
  const server = await beaconingServer(b.port!, 50);
  await waitFor(() => b.servers.length === 1 && listener.received.length >= 3, 'a few beacons', 3000);
  await server.close();
  await waitFor(() => lost.length === 1, 'the goodbye', 3000);
  assert.is(b.servers.length, 0, 'forgotten long before its 60 s TTL');
  const count = listener.received.length;
  assert.equal(parseBeacon(listener.received.at(-1)!)?.closing, true, 'the last beacon says closing');
  await sleep(400);
  assert.is(listener.received.length, count, 'no beacon after close');
});

test('discover() resolves with the servers heard within its timeout', async () => {
  const port = await freeUdpPort();
  const server = await beaconingServer(port, 100, 'one-shot');
  const found = await discover({ port, timeoutMs: 500 });
  assert.equal(found.map((s) => [s.name, s.port]), [['one-shot', server.port]]);
});

test('discovery options are checked when the plugin is created', () => {
  assert.throws(() => discovery({ port: 70000 }), /port/);
  assert.throws(() => discovery({ intervalMs: 0 }), /intervalMs/);
  assert.throws(() => discovery({ interval: 5 } as never), /did you mean intervalMs/);
});

/** A UDP port free right now on this machine (bound and released). */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

test.run();
