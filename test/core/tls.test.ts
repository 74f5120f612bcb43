import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { resolveServerOptions } from '../../core/config.js';
import { isConfabError } from '../../core/errors.js';
import { FrameDecoder } from '../../core/frame-decoder.js';
import { encodeFrame } from '../../core/frame.js';
import { decodeJsonObject } from '../../core/json.js';
import { FrameType } from '../../core/protocol.js';
import { connect, type ConfabClient } from '../../core/client/node.js';
import { chat } from '../../plugins/chat/server.js';
import { chatClient } from '../../plugins/chat/client.js';
import { startTestServer, waitFor } from '../../core/testing.js';

/** GET over HTTPS trusting `ca`: status and body. */
function getHttps(port: number, path: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpsGet({ host: '127.0.0.1', port, path, ca }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** Sends raw bytes on a plain TCP connection and collects every frame until the server closes it. */
function rawExchange(port: number, bytes: Uint8Array): Promise<Array<{ type: number; payload: Uint8Array }>> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host: '127.0.0.1', port }, () => socket.write(bytes));
    const decoder = new FrameDecoder({ maxPayload: 1 << 20 });
    const frames: Array<{ type: number; payload: Uint8Array }> = [];
    socket.on('data', (chunk) => frames.push(...decoder.push(chunk).frames));
    socket.on('error', reject);
    socket.on('close', () => resolve(frames));
  });
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isConfabError(error), `expected a ConfabError, got ${String(error)}`);
    assert.is(error.code, code);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

test('resolveServerOptions: TLS is self-signed by default off loopback, off on loopback; a bad value is CONFIG_INVALID', () => {
  assert.is(resolveServerOptions({ host: '0.0.0.0' }).tls, 'self-signed');
  assert.is(resolveServerOptions({ host: '192.168.1.10' }).tls, 'self-signed');
  assert.is(resolveServerOptions({ host: '127.0.0.1' }).tls, 'off');
  assert.is(resolveServerOptions({ host: '::1' }).tls, 'off');
  assert.is(resolveServerOptions({ host: 'localhost', tls: 'self-signed' }).tls, 'self-signed');
  assert.is(resolveServerOptions({ host: '0.0.0.0', tls: 'off' }).tls, 'off');
  const files = resolveServerOptions({ tls: { cert: 'a.pem', key: 'b.pem' } }).tls;
  assert.ok(typeof files === 'object' && files.cert.endsWith('/a.pem') && files.key.endsWith('/b.pem'));
  // Resolved options resolve again to the same (cli/serve.ts resolves twice).
  assert.equal(resolveServerOptions(resolveServerOptions({ host: '0.0.0.0' })).tls, 'self-signed');
  for (const tls of ['yes', true, { cert: 'a.pem' }, { cert: 'a.pem', key: '' }, { cert: 'a', key: 'b', extra: 1 }]) {
    try {
      resolveServerOptions({ tls: tls as never });
      assert.unreachable(`tls ${JSON.stringify(tls)} was accepted`);
    } catch (error) {
      assert.ok(isConfabError(error) && error.code === 'CONFIG_INVALID', String(error));
      assert.match((error as Error).message, /server\.tls must be/);
    }
  }
});

test('a self-signed server answers HTTPS /health, WSS and tls:// joins, and plain HTTP/TCP on the same port', async () => {
  const server = await startTestServer({ plugins: [chat()], server: { tls: 'self-signed' } });
  const clients: ConfabClient[] = [];
  try {
    const info = server.server.tls!;
    assert.ok(info.generated, 'generated on first start');
    assert.is(info.source, 'self-signed');
    const ca = readFileSync(join(server.dataDir, 'tls', 'cert.pem'), 'utf8');
    assert.is(info.fingerprint, new X509Certificate(ca).fingerprint256);
    assert.match(info.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.is(statSync(join(server.dataDir, 'tls', 'key.pem')).mode & 0o777, 0o600, 'the key is private');

    const health = await getHttps(server.port, '/health', ca);
    assert.is(health.status, 200);
    assert.is(JSON.parse(health.body).status, 'ok');
    const plain = await fetch(`http://127.0.0.1:${server.port}/health`);
    assert.is(plain.status, 200, 'plain HTTP keeps working on loopback');

    const alice = await connect({ url: `wss://127.0.0.1:${server.port}/ws`, name: 'alice', room: 'lab', tls: { ca } });
    clients.push(alice);
    const bob = await connect({ url: `tls://127.0.0.1:${server.port}`, name: 'bob', room: 'lab', tls: { fingerprint: info.fingerprint.toLowerCase() } });
    clients.push(bob);
    const carol = await connect({ url: `tcp://127.0.0.1:${server.port}`, name: 'carol', room: 'lab' });
    clients.push(carol);
    await waitFor(() => alice.peers.size === 2, 'alice sees bob and carol', 3000);

    const aliceChat = alice.use(chatClient());
    const bobChat = bob.use(chatClient());
    const carolChat = carol.use(chatClient());
    await aliceChat.send('over wss');
    await bobChat.send('over tls');
    await waitFor(() => carolChat.messages.length === 2, 'carol (plain tcp) gets both', 3000);
    assert.equal(carolChat.messages.map((m) => m.text), ['over wss', 'over tls']);
    await waitFor(() => aliceChat.messages.length === 2, 'alice gets the tls message', 3000);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await server.close();
  }
});

test('the self-signed certificate is kept across restarts: same fingerprint, not generated again', async () => {
  const first = await startTestServer({ plugins: [], server: { tls: 'self-signed' } });
  const fingerprint = first.server.tls!.fingerprint;
  await first.close({ keepData: true });
  const second = await startTestServer({ plugins: [], server: { tls: 'self-signed', dataDir: first.dataDir } });
  try {
    assert.is(second.server.tls!.fingerprint, fingerprint);
    assert.not.ok(second.server.tls!.generated);
    const client = await connect({ url: `tls://127.0.0.1:${second.port}`, name: 'pinned', tls: { fingerprint } });
    await client.close();
  } finally {
    await second.close();
  }
});

test('a client refuses a server whose certificate it does not trust: TLS_FINGERPRINT_MISMATCH, CONNECT_FAILED', async () => {
  const server = await startTestServer({ plugins: [], server: { tls: 'self-signed' } });
  try {
    const wrong = 'AA:'.repeat(31) + 'AA';
    const options = { name: 'x', reconnect: false, tls: { fingerprint: wrong } };
    await expectCode(connect({ ...options, url: `tls://127.0.0.1:${server.port}` }), 'TLS_FINGERPRINT_MISMATCH');
    await expectCode(connect({ ...options, url: `wss://127.0.0.1:${server.port}/ws` }), 'TLS_FINGERPRINT_MISMATCH');
    // No CA and no fingerprint: the system CAs do not know a self-signed certificate.
    await expectCode(connect({ name: 'x', url: `tls://127.0.0.1:${server.port}` }), 'CONNECT_FAILED');
    await expectCode(connect({ name: 'x', url: `wss://127.0.0.1:${server.port}/ws` }), 'CONNECT_FAILED');
    assert.is(server.server.sessions.size, 0);
  } finally {
    await server.close();
  }
});

test('tls: { cert, key } serves the given files; unreadable or wrong files fail listen() with TLS_CERT_INVALID', async () => {
  const source = await startTestServer({ plugins: [], server: { tls: 'self-signed' } });
  const dir = mkdtempSync(join(tmpdir(), 'confab-tls-'));
  await source.close({ keepData: true });
  const cert = join(dir, 'server.crt');
  const key = join(dir, 'server.key');
  writeFileSync(cert, readFileSync(join(source.dataDir, 'tls', 'cert.pem')));
  writeFileSync(key, readFileSync(join(source.dataDir, 'tls', 'key.pem')));
  rmSync(source.dataDir, { recursive: true, force: true });
  try {
    const server = await startTestServer({ plugins: [], server: { tls: { cert, key } } });
    try {
      assert.is(server.server.tls!.source, 'files');
      const health = await getHttps(server.port, '/health', readFileSync(cert, 'utf8'));
      assert.is(health.status, 200);
    } finally {
      await server.close();
    }
    await expectCode(startTestServer({ plugins: [], server: { tls: { cert: join(dir, 'missing.crt'), key } } }), 'TLS_CERT_INVALID');
    writeFileSync(join(dir, 'garbage.crt'), 'not a certificate');
    await expectCode(startTestServer({ plugins: [], server: { tls: { cert: join(dir, 'garbage.crt'), key } } }), 'TLS_CERT_INVALID');
    await expectCode(startTestServer({ plugins: [], server: { tls: { cert: key, key: cert } } }), 'TLS_CERT_INVALID');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hostile TLS input: a broken ClientHello is dropped, a bad first byte inside TLS gets HELLO_REQUIRED; others unaffected', async () => {
  const server = await startTestServer({ plugins: [chat()], server: { tls: 'self-signed' } });
  const fingerprint = server.server.tls!.fingerprint;
  const bystander = await connect({ url: `tls://127.0.0.1:${server.port}`, name: 'bystander', tls: { fingerprint } });
  try {
    // 0x16 then garbage: not a TLS handshake; the server closes the connection without answering frames.
    const frames = await rawExchange(server.port, Uint8Array.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5, 6, 7, 8]));
    assert.is(frames.length, 0);

    // A real TLS connection whose first decrypted byte is neither HELLO nor HTTP nor (again) TLS.
    const answer = await new Promise<Uint8Array>((resolve, reject) => {
      const socket = connectTls({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false }, () => socket.write(Uint8Array.from([0x16, 0, 0])));
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks)));
    });
    const decoded = new FrameDecoder({ maxPayload: 1 << 20 }).push(answer).frames;
    assert.is(decoded[0]?.type, FrameType.ERROR);
    assert.is((decodeJsonObject(decoded[0]!.payload) as { code: string }).code, 'HELLO_REQUIRED');

    assert.is(bystander.state, 'open');
    const stillThere = bystander.use(chatClient());
    await stillThere.send('still here');
  } finally {
    await bystander.close();
    await server.close();
  }
});

test('without TLS a TLS ClientHello gets HELLO_REQUIRED naming server.tls', async () => {
  const server = await startTestServer();
  try {
    const hello = encodeFrame(0x16, new Uint8Array(8));
    const frames = await rawExchange(server.port, hello);
    const error = decodeJsonObject(frames[0]!.payload) as { code: string; message: string };
    assert.is(error.code, 'HELLO_REQUIRED');
    assert.match(error.message, /server\.tls/);
  } finally {
    await server.close();
  }
});

test.run();
