/**
 * The auth plugin (plugins/auth): a HELLO needs a valid HS256 token for its room (or the room's password);
 * every refusal is a fatal coded ERROR and the connection closes, while the sessions already in keep working.
 */
import { createHmac } from 'node:crypto';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join as joinPath } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import { isConfabError } from '../../core/errors.js';
import { FrameType } from '../../core/protocol.js';
import { chat } from '../../plugins/chat/server.js';
import { chatClient } from '../../plugins/chat/client.js';
import { auth, secretPath } from '../../plugins/auth/server.js';
import { signToken } from '../../plugins/auth/token.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../../core/testing.js';

const ROOM = 'lab1';
const cleanups: Array<() => unknown> = [];

test.after.each(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Parameters<typeof auth>[0] = {}, dataDir?: string): Promise<TestServer> {
  const ts = await startTestServer({ plugins: [auth(options), chat()], server: dataDir ? { dataDir } : {} });
  cleanups.push(() => ts.close());
  return ts;
}

function secretOf(ts: TestServer): Buffer {
  return Buffer.from(readFileSync(secretPath(ts.dataDir), 'utf8').trim(), 'base64url');
}

/** A token with any header and claims, signed with `secret` (HMAC-SHA256) unless `signature` is given. */
function craft(secret: Buffer, header: object, claims: object, signature?: string): string {
  const body = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${body}.${signature ?? createHmac('sha256', secret).update(body).digest('base64url')}`;
}

const now = () => Math.floor(Date.now() / 1000);

/** Sends HELLO and returns the ERROR the server answers with; asserts the connection is then closed. */
async function refused(port: number, hello: Record<string, unknown>): Promise<{ code: string; fatal: boolean; message: string }> {
  const client = await RawClient.tcp(port);
  cleanups.push(() => client.destroy());
  client.sendJson(FrameType.HELLO, { v: 1, name: 'mallory', room: ROOM, ...hello });
  const frame = await client.next((f) => f.type === FrameType.ERROR || f.type === FrameType.WELCOME);
  assert.is(frame.type, FrameType.ERROR, 'refused, not welcomed');
  await client.closed;
  return frame.json;
}

async function join(port: number, hello: Record<string, unknown>) {
  const joined = await RawClient.join('tcp', port, { room: ROOM, ...hello });
  cleanups.push(() => joined.client.destroy());
  return joined;
}

/** A member that is already in, whose chat must keep working whatever the others do. */
async function bystander(ts: TestServer) {
  const client = new ConfabClient({ url: `tcp://127.0.0.1:${ts.port}`, name: 'bob', room: ROOM, token: await signToken(secretOf(ts), { room: ROOM, grants: ['join', 'chat'], ttlSeconds: 600 }), reconnect: false });
  cleanups.push(() => client.close());
  const chatApi = client.use(chatClient());
  await client.connect();
  return { client, chat: chatApi };
}

async function stillWorks(chatApi: ReturnType<typeof chatClient> extends { attach(ctx: never): infer A } ? A : never): Promise<void> {
  const sent = await chatApi.send('still here');
  assert.is(sent.text, 'still here');
}

test('auth() generates a secret of 32 bytes in <dataDir>/plugins/auth/secret with mode 0600 and keeps it across restarts', async () => {
  const ts = await start();
  const path = secretPath(ts.dataDir);
  assert.is(statSync(path).mode & 0o777, 0o600);
  const secret = secretOf(ts);
  assert.is(secret.length, 32);
  const token = await signToken(secret, { room: ROOM, grants: ['join'], ttlSeconds: 60 });
  await ts.close({ keepData: true });
  const again = await start({}, ts.dataDir);
  assert.ok(secretOf(again).equals(secret), 'the same secret after a restart');
  const { welcome } = await join(again.port, { name: 'alice', token });
  assert.is(welcome.room, ROOM);
});

test('auth() refuses to start with a secret file that others can read (AUTH_SECRET_UNSAFE)', async () => {
  const dataDir = mkdtempSync(joinPath(tmpdir(), 'confab-auth-'));
  const path = secretPath(dataDir);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, Buffer.alloc(32, 7).toString('base64url'));
  chmodSync(path, 0o644);
  try {
    await startTestServer({ plugins: [auth()], server: { dataDir } });
    assert.unreachable('the server started');
  } catch (error) {
    assert.ok(isConfabError(error), String(error));
    assert.is(error.code, 'AUTH_SECRET_UNSAFE');
  }
});

test('a HELLO without token gets AUTH_REQUIRED (fatal) and is closed', async () => {
  const ts = await start();
  const error = await refused(ts.port, {});
  assert.is(error.code, 'AUTH_REQUIRED');
  assert.is(error.fatal, true);
  assert.match(error.message, /confab token --room lab1/);
});

test('a valid token joins with exactly its grants; chat without the chat grant gets CHAT_NOT_ALLOWED', async () => {
  const ts = await start();
  const { chat: bob } = await bystander(ts);
  const token = await signToken(secretOf(ts), { room: ROOM, name: 'alice', grants: ['join', 'subscribe'], ttlSeconds: 600 });
  const { client, welcome } = await join(ts.port, { name: 'alice', token });
  assert.equal([...ts.server.sessions.get(welcome.session)!.grants].sort(), ['join', 'subscribe']);
  client.sendJson(welcome.channels.chat!, { op: 'send', text: 'hi', clientId: 'c1' });
  const error = await client.nextError();
  assert.is(error.code, 'CHAT_NOT_ALLOWED');
  assert.is(error.ref, 'c1');
  assert.is(error.fatal, false);
  await stillWorks(bob);
});

test('an expired token gets AUTH_TOKEN_EXPIRED', async () => {
  const ts = await start();
  const token = await signToken(secretOf(ts), { room: ROOM, grants: ['join'], ttlSeconds: 60, now: Date.now() - 120_000 });
  assert.is((await refused(ts.port, { token })).code, 'AUTH_TOKEN_EXPIRED');
});

test('a token without exp or jti, with alg none, with another algorithm, with a tampered payload or a longer life than allowed gets AUTH_TOKEN_INVALID', async () => {
  const ts = await start({ maxTtlSeconds: 3600 });
  const { chat: bob } = await bystander(ts);
  const secret = secretOf(ts);
  const claims = { room: ROOM, grants: ['join', 'moderate'], iat: now(), exp: now() + 600, jti: 'test-jti-1' };
  const hs256 = { alg: 'HS256', typ: 'JWT' };
  const { exp: _exp, ...noExp } = claims;
  const { jti: _jti, ...noJti } = claims;
  const good = craft(secret, hs256, claims);
  const [h, , s] = good.split('.');
  const cases: Record<string, string> = {
    'no exp': craft(secret, hs256, noExp),
    'no jti (it could not be revoked)': craft(secret, hs256, noJti),
    'alg none, no signature': `${craft(secret, { alg: 'none', typ: 'JWT' }, claims).split('.').slice(0, 2).join('.')}.`,
    'alg none with a signature': craft(secret, { alg: 'none' }, claims),
    'alg HS512': craft(secret, { alg: 'HS512', typ: 'JWT' }, claims),
    'alg hs256 in lower case': craft(secret, { alg: 'hs256' }, claims),
    'tampered payload': `${h}.${Buffer.from(JSON.stringify({ ...claims, exp: now() + 999_999 })).toString('base64url')}.${s}`,
    'signed with another secret': craft(Buffer.alloc(32, 1), hs256, claims),
    'lifetime over maxTtlSeconds': craft(secret, hs256, { ...claims, exp: now() + 7200 }),
    'unknown grant': craft(secret, hs256, { ...claims, grants: ['join', 'root'] }),
    'not a JWT at all': 'hello',
  };
  for (const [what, token] of Object.entries(cases)) {
    const error = await refused(ts.port, { token });
    assert.is(error.code, 'AUTH_TOKEN_INVALID', what);
  }
  const { welcome } = await join(ts.port, { name: 'alice', token: good });
  assert.ok(welcome.session, 'the untampered token works');
  await stillWorks(bob);
});

test('a token for another room gets AUTH_WRONG_ROOM, for another name AUTH_WRONG_NAME, without join AUTH_NO_JOIN', async () => {
  const ts = await start();
  const secret = secretOf(ts);
  assert.is((await refused(ts.port, { token: await signToken(secret, { room: 'other', grants: ['join'], ttlSeconds: 60 }) })).code, 'AUTH_WRONG_ROOM');
  assert.is((await refused(ts.port, { token: await signToken(secret, { room: ROOM, name: 'alice', grants: ['join'], ttlSeconds: 60 }) })).code, 'AUTH_WRONG_NAME');
  assert.is((await refused(ts.port, { token: await signToken(secret, { room: ROOM, grants: ['chat'], ttlSeconds: 60 }) })).code, 'AUTH_NO_JOIN');
});

test('a room password admits without moderate; a wrong one gets AUTH_WRONG_PASSWORD; repeated failures get AUTH_TOO_MANY_ATTEMPTS', async () => {
  const ts = await start({ passwords: { [ROOM]: 'blue-falcon-42' }, maxFailuresPerMinute: 3 });
  const { welcome } = await join(ts.port, { name: 'alice', password: 'blue-falcon-42' });
  const grants = ts.server.sessions.get(welcome.session)!.grants;
  assert.ok(grants.has('chat') && !grants.has('moderate'));
  assert.is((await refused(ts.port, { room: 'nopassword', password: 'blue-falcon-42' })).code, 'AUTH_REQUIRED');
  for (let i = 0; i < 3; i++) assert.is((await refused(ts.port, { password: `guess-${i}-xxxx` })).code, 'AUTH_WRONG_PASSWORD');
  assert.is((await refused(ts.port, { password: 'blue-falcon-42' })).code, 'AUTH_TOO_MANY_ATTEMPTS', 'even the right password, for a minute');
});

test('ConfabClient({ token }) joins; connect() without one rejects with AUTH_REQUIRED', async () => {
  const ts = await start();
  const token = await signToken(secretOf(ts), { room: ROOM, name: 'alice', grants: ['join', 'chat'], ttlSeconds: 60 });
  const alice = new ConfabClient({ url: `tcp://127.0.0.1:${ts.port}`, name: 'alice', room: ROOM, token });
  cleanups.push(() => alice.close());
  await alice.connect();
  const anonymous = new ConfabClient({ url: `tcp://127.0.0.1:${ts.port}`, name: 'eve', room: ROOM, reconnect: false });
  cleanups.push(() => anonymous.close());
  try {
    await anonymous.connect();
    assert.unreachable('joined without a token');
  } catch (error) {
    assert.ok(isConfabError(error));
    assert.is(error.code, 'AUTH_REQUIRED');
  }
});

test('confab token mints a token that the server accepts, with the grants asked for', async () => {
  const ts = await start();
  const run = promisify(execFile);
  const { stdout } = await run(process.execPath, ['cli/confab.mjs', 'token', '--room', ROOM, '--name', 'carol', '--grant', 'chat,subscribe', '--ttl', '10m', '--data-dir', ts.dataDir]);
  const { welcome } = await join(ts.port, { name: 'carol', token: stdout.trim() });
  assert.equal([...ts.server.sessions.get(welcome.session)!.grants].sort(), ['chat', 'join', 'subscribe']);
});

test.run();
