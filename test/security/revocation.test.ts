/**
 * Token revocation and expiry for live sessions (plugins/auth): `confab token revoke` in another process
 * writes the store of a running server, which then refuses the token at the handshake and closes the sessions
 * holding it; a session whose token expires is closed with AUTH_TOKEN_EXPIRED unless it refreshed its token.
 * Every other session keeps working.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import { isConfabError, type ConfabError } from '../../core/errors.js';
import type { Grant } from '../../core/grants.js';
import { FrameType } from '../../core/protocol.js';
import { authClient } from '../../plugins/auth/client.js';
import { auth, secretPath, type AuthOptions } from '../../plugins/auth/server.js';
import { TOKENS } from '../../plugins/auth/service.js';
import { signToken } from '../../plugins/auth/token.js';
import { chatClient } from '../../plugins/chat/client.js';
import { chat } from '../../plugins/chat/server.js';
import { RawClient } from '../helpers/raw-client.js';
import { sleep, startTestServer, waitFor, type TestServer } from '../../core/testing.js';

const ROOM = 'lab1';
const run = promisify(execFile);
const cleanups: Array<() => unknown> = [];

test.after.each(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: AuthOptions = {}, dataDir?: string): Promise<TestServer> {
  const ts = await startTestServer({ plugins: [auth({ checkIntervalMs: 100, ...options }), chat()], server: dataDir ? { dataDir } : {} });
  cleanups.push(() => ts.close());
  return ts;
}

/** A token signed with the server's secret; `expiresInMs` makes a short-lived one (exp is in whole seconds). */
async function token(ts: TestServer, name: string | undefined, options: { grants?: Grant[]; expiresInMs?: number; room?: string } = {}): Promise<string> {
  const secret = Buffer.from(readFileSync(secretPath(ts.dataDir), 'utf8').trim(), 'base64url');
  const ttlSeconds = 600;
  const now = options.expiresInMs === undefined ? Date.now() : Date.now() - ttlSeconds * 1000 + options.expiresInMs;
  return signToken(secret, { room: options.room ?? ROOM, name, grants: options.grants ?? ['join', 'chat', 'subscribe'], ttlSeconds, now });
}

function jtiOf(token: string): string {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')).jti;
}

/** A member with the real client: its chat, the errors it was sent, and how it closed. */
async function member(ts: TestServer, name: string, withToken: string) {
  const client = new ConfabClient({ url: `tcp://127.0.0.1:${ts.port}`, name, room: ROOM, token: withToken });
  cleanups.push(() => client.close());
  const chatApi = client.use(chatClient());
  const authApi = client.use(authClient());
  const errors: string[] = [];
  client.on('serverError', (error) => errors.push(error.code));
  const closed = new Promise<unknown>((resolve) => client.on('close', (event) => resolve(event.error)));
  await client.connect();
  return { client, chat: chatApi, auth: authApi, errors, closed };
}

async function closedWith(closed: Promise<unknown>, code: string): Promise<ConfabError> {
  const error = await Promise.race([closed, sleep(5000).then(() => 'not closed within 5 s')]);
  assert.ok(isConfabError(error), `closed with a ConfabError, got ${String(error)}`);
  assert.is(error.code, code);
  return error;
}

/** Sends HELLO and returns the ERROR the server answers with. */
async function refused(port: number, hello: Record<string, unknown>) {
  const client = await RawClient.tcp(port);
  cleanups.push(() => client.destroy());
  client.sendJson(FrameType.HELLO, { v: 1, room: ROOM, ...hello });
  const frame = await client.next((f) => f.type === FrameType.ERROR || f.type === FrameType.WELCOME);
  assert.is(frame.type, FrameType.ERROR, 'refused, not welcomed');
  await client.closed;
  return frame.json as { code: string; fatal: boolean; message: string };
}

test('confab token prints the jti; confab token revoke JTI (another process) closes the live session and refuses the token; others keep working', async () => {
  const ts = await start();
  const minted = await run(process.execPath, ['cli/confab.mjs', 'token', '--room', ROOM, '--name', 'alice', '--data-dir', ts.dataDir]);
  const aliceToken = minted.stdout.trim();
  const printed = /jti (\S+)/.exec(minted.stderr)?.[1];
  assert.is(printed, jtiOf(aliceToken), 'the jti is printed on stderr');
  const alice = await member(ts, 'alice', aliceToken);
  const bob = await member(ts, 'bob', await token(ts, 'bob'));

  const revoked = await run(process.execPath, ['cli/confab.mjs', 'token', 'revoke', printed!, '--reason', 'laptop stolen', '--data-dir', ts.dataDir]);
  assert.match(revoked.stderr, /revoked/);
  const error = await closedWith(alice.closed, 'AUTH_TOKEN_REVOKED');
  assert.is(error.fatal, true);
  assert.is(alice.client.state, 'closed', 'not resumed: the client must join again with a new token');
  await waitFor(() => bob.client.peers.size === 0, 'bob to see alice leave', 3000);

  const again = await refused(ts.port, { name: 'alice', token: aliceToken });
  assert.equal([again.code, again.fatal], ['AUTH_TOKEN_REVOKED', true]);
  assert.is((await bob.chat.send('still here')).text, 'still here');
  const fresh = await member(ts, 'alice', await token(ts, 'alice'));
  assert.is(fresh.client.state, 'open', 'a new token for the same person works');
});

test('confab token revoke TOKEN takes the jti from the token; the revocation survives a restart; nonsense is refused with exit code 2', async () => {
  const ts = await start();
  const carolToken = await token(ts, 'carol');
  await run(process.execPath, ['cli/confab.mjs', 'token', 'revoke', carolToken, '--data-dir', ts.dataDir]);
  assert.is((await refused(ts.port, { name: 'carol', token: carolToken })).code, 'AUTH_TOKEN_REVOKED');
  await ts.close({ keepData: true });
  const again = await start({}, ts.dataDir);
  assert.is((await refused(again.port, { name: 'carol', token: carolToken })).code, 'AUTH_TOKEN_REVOKED', 'after a restart');
  for (const args of [['revoke'], ['revoke', 'a.b.c'], ['revoke', 'x'.repeat(65)], ['revoke', 'one', 'two'], ['bogus']]) {
    const result = await run(process.execPath, ['cli/confab.mjs', 'token', ...args, '--data-dir', ts.dataDir]).then(() => 0, (error: { code: number }) => error.code);
    assert.is(result, 2, args.join(' '));
  }
});

test('a revoked token closes every session that holds it, detached ones too, so none can resume', async () => {
  const ts = await start();
  const shared = await token(ts, undefined);
  const one = await member(ts, 'one', shared);
  const two = await member(ts, 'two', shared);
  const bob = await member(ts, 'bob', await token(ts, 'bob'));
  const twoId = two.client.self!.id;
  ts.server.service(TOKENS)!.revoke(jtiOf(shared), { reason: 'leaked' });
  await closedWith(one.closed, 'AUTH_TOKEN_REVOKED');
  await closedWith(two.closed, 'AUTH_TOKEN_REVOKED');
  assert.not.ok(ts.server.sessions.has(twoId));
  assert.is(bob.client.state, 'open');
  assert.is((await bob.chat.send('fine')).text, 'fine');

  const daveToken = await token(ts, 'dave');
  const detached = await RawClient.join('tcp', ts.port, { name: 'dave', room: ROOM, token: daveToken });
  cleanups.push(() => detached.client.destroy());
  detached.client.destroy();
  await waitFor(() => ts.server.sessions.get(detached.welcome.session)?.state === 'detached', 'dave to be detached', 3000);
  await run(process.execPath, ['cli/confab.mjs', 'token', 'revoke', jtiOf(daveToken), '--data-dir', ts.dataDir]);
  await waitFor(() => !ts.server.sessions.has(detached.welcome.session), 'the detached session to end', 3000);
  const resume = await refused(ts.port, { name: 'dave', resume: detached.welcome.resume });
  assert.is(resume.code, 'RESUME_FAILED');
});

test('a session whose token expires is warned (AUTH_TOKEN_EXPIRING), then closed with fatal AUTH_TOKEN_EXPIRED and not resumed; others keep working', async () => {
  const ts = await start({ expiryWarningSeconds: 60 });
  const alice = await member(ts, 'alice', await token(ts, 'alice', { expiresInMs: 1500 }));
  const bob = await member(ts, 'bob', await token(ts, 'bob'));
  const warned = new Promise<ConfabError>((resolve) => alice.auth.on('expiring', resolve));
  assert.is((await warned).code, 'AUTH_TOKEN_EXPIRING');
  assert.is(bob.errors.length, 0, 'bob is not warned');
  const error = await closedWith(alice.closed, 'AUTH_TOKEN_EXPIRED');
  assert.is(error.fatal, true);
  assert.is(alice.client.state, 'closed');
  assert.is((await bob.chat.send('still here')).text, 'still here');
});

test('auth.refresh(token) keeps the session past the old expiry and sets the new grants; bad refreshes are refused without harm', async () => {
  const ts = await start();
  const alice = await member(ts, 'alice', await token(ts, 'alice', { expiresInMs: 1500 }));
  const id = alice.client.self!.id;

  for (const [bad, code] of [
    [await token(ts, 'alice', { room: 'elsewhere' }), 'AUTH_WRONG_ROOM'],
    [await token(ts, 'mallory'), 'AUTH_WRONG_NAME'],
    [await token(ts, 'alice', { grants: ['chat'] }), 'AUTH_NO_JOIN'],
    ['not.a.token', 'AUTH_TOKEN_INVALID'],
    [await token(ts, 'alice', { expiresInMs: -5000 }), 'AUTH_TOKEN_EXPIRED'],
  ] as const) {
    const refusal = await alice.auth.refresh(bad).then(() => undefined, (error: ConfabError) => error);
    assert.equal([refusal?.code, refusal?.fatal], [code, false], code);
  }
  const revokedToken = await token(ts, 'alice');
  ts.server.service(TOKENS)!.revoke(jtiOf(revokedToken));
  assert.is((await alice.auth.refresh(revokedToken).then(() => undefined, (error: ConfabError) => error))?.code, 'AUTH_TOKEN_REVOKED');

  const fresh = await token(ts, 'alice', { grants: ['join', 'subscribe'] });
  const refreshed = await alice.auth.refresh(fresh);
  assert.is(refreshed.jti, jtiOf(fresh));
  assert.equal(refreshed.grants.sort(), ['join', 'subscribe']);
  assert.equal([...ts.server.sessions.get(id)!.grants].sort(), ['join', 'subscribe']);
  await sleep(2000);
  assert.is(alice.client.state, 'open', 'past the first token\'s expiry');
  const refusal = await alice.chat.send('hi').then(() => undefined, (error: ConfabError) => error);
  assert.is(refusal?.code, 'CHAT_NOT_ALLOWED', 'the new token lacks chat');

  const raw = await RawClient.join('tcp', ts.port, { name: 'raw', room: ROOM, token: await token(ts, 'raw') });
  cleanups.push(() => raw.client.destroy());
  for (const message of [{ op: 'refresh' }, { op: 'refresh', token: 42 }, { op: 'renew', token: 'x' }, { token: 'x' }]) {
    raw.client.sendJson(raw.welcome.channels.auth!, message);
    const error = await raw.client.nextError();
    assert.equal([error.code, error.fatal, error.channel], ['AUTH_BAD_REQUEST', false, 'auth'], JSON.stringify(message));
  }
  assert.is(alice.client.state, 'open');
});

test.run();
