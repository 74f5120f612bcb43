/**
 * The moderation plugin (plugins/moderation) with auth deciding who moderates: mute and stop take grants
 * (and media frames are dropped from then on), remove ends the session with a code, lock refuses newcomers,
 * the lobby holds them in the handshake until a moderator admits or denies them.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import { definePlugin } from '../../core/config.js';
import { isConfabError } from '../../core/errors.js';
import type { Grant } from '../../core/grants.js';
import { createMediaInbox } from '../../core/media-inbox.js';
import { decodeMediaFrame, encodeMediaFrame, MediaCodec, withSender } from '../../core/media.js';
import { FrameType } from '../../core/protocol.js';
import { authClient } from '../../plugins/auth/client.js';
import { auth, secretPath } from '../../plugins/auth/server.js';
import { signToken } from '../../plugins/auth/token.js';
import { moderationClient } from '../../plugins/moderation/client.js';
import type { ModerationEvent } from '../../plugins/moderation/protocol.js';
import { moderation } from '../../plugins/moderation/server.js';
import { screenClient } from '../../plugins/screen/client.js';
import type { StopReason } from '../../plugins/screen/protocol.js';
import { screen } from '../../plugins/screen/server.js';
import { videoClient } from '../../plugins/video-relay/client.js';
import { videoRelay } from '../../plugins/video-relay/server.js';
import { RawClient } from '../helpers/raw-client.js';
import { sleep, startTestServer, waitFor, type TestServer } from '../../core/testing.js';
import { mediaChannel } from '../../core/channel-def.js';

const TEST_AUDIO = mediaChannel('test-audio');

const ROOM = 'standup';
const MEMBER: Grant[] = ['join', 'publish:audio', 'publish:video', 'publish:screen', 'subscribe', 'chat'];
const MODERATOR: Grant[] = [...MEMBER, 'moderate'];
const cleanups: Array<() => unknown> = [];

test.after.each(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A media plugin as the real ones are built: every frame through the media inbox, which checks the grant. */
const audioRelay = definePlugin({
  name: 'test-audio',
  channels: [TEST_AUDIO],
  setup(ctx) {
    const channel = ctx.channel(TEST_AUDIO);
    const inbox = createMediaInbox(ctx.metrics, { grant: 'publish:audio', codecs: [MediaCodec.PCM_S16LE], maxFrameBytes: 4096 });
    channel.onMessage((session, payload) => {
      const frame = inbox(session, payload as Uint8Array);
      if (frame) channel.broadcast(session.room, withSender(frame, session.id), { except: session, media: { stream: `a:${session.id}` } });
    });
  },
});

async function start(options: Parameters<typeof moderation>[0] = {}): Promise<TestServer> {
  const ts = await startTestServer({ plugins: [auth({ checkIntervalMs: 100 }), moderation(options), audioRelay, screen(), videoRelay()] });
  cleanups.push(() => ts.close());
  return ts;
}

/** A token for `name` (or for anyone, when `name` is undefined); `expiresInMs` makes a short-lived one. */
async function token(ts: TestServer, name: string | undefined, grants: Grant[], expiresInMs?: number): Promise<string> {
  const secret = Buffer.from(readFileSync(secretPath(ts.dataDir), 'utf8').trim(), 'base64url');
  const now = expiresInMs === undefined ? Date.now() : Date.now() - 600_000 + expiresInMs;
  return signToken(secret, { room: ROOM, name, grants, ttlSeconds: 600, now });
}

async function member(ts: TestServer, name: string, grants: Grant[] = MEMBER, extra: { handshakeTimeoutMs?: number; token?: string } = {}) {
  const client = new ConfabClient({ url: `tcp://127.0.0.1:${ts.port}`, name, room: ROOM, token: await token(ts, name, grants), reconnect: false, ...extra });
  cleanups.push(() => client.close());
  const mod = client.use(moderationClient());
  const heard: string[] = [];
  const audio = client.use({
    name: 'test-audio',
    attach: (ctx) => {
      ctx.onMessage('test-audio', (bytes) => {
        const frame = decodeMediaFrame(bytes as Uint8Array);
        if (frame.ok) heard.push(new TextDecoder().decode(frame.frame.data));
      });
      return (text: string) => ctx.send('test-audio', encodeMediaFrame({ codec: MediaCodec.PCM_S16LE, keyframe: true, seq: 1, captureMs: Date.now(), sender: '', data: new TextEncoder().encode(text) }));
    },
  });
  const errors: string[] = [];
  client.on('serverError', (error) => errors.push(error.code));
  const events: ModerationEvent[] = [];
  mod.on('event', (event) => events.push(event));
  const share = client.use(screenClient());
  const stopped: Array<{ id: string; reason: StopReason }> = [];
  share.on('stopped', ({ presenter, reason }) => stopped.push({ id: presenter.id, reason }));
  const video = client.use(videoClient());
  const cameras: Array<{ peer: string; on: boolean }> = [];
  video.on('camera', (event) => cameras.push(event));
  const closed = new Promise<unknown>((resolve) => client.on('close', (event) => resolve(event.error)));
  return { client, mod, heard, errors, events, say: audio, share, stopped, video, cameras, closed };
}

/** Joins and expects a fatal refusal with `code`. */
async function refusedWith(ts: TestServer, name: string, code: string, withToken: string): Promise<void> {
  const late = await member(ts, name, MEMBER, { token: withToken });
  const error = await late.client.connect().then(() => undefined, (e: unknown) => e);
  assert.ok(isConfabError(error), `${name} was refused`);
  assert.is(error.code, code, name);
}

test('mute takes publish:audio: the room is told, the frames are dropped; allow gives it back', async () => {
  const ts = await start();
  const mo = await member(ts, 'mo', MODERATOR);
  const alice = await member(ts, 'alice');
  const bob = await member(ts, 'bob');
  await mo.client.connect();
  await alice.client.connect();
  await bob.client.connect();
  const aliceId = alice.client.self!.id;

  alice.say('before');
  await waitFor(() => bob.heard.includes('before'), 'bob to hear alice', 3000);
  mo.mod.mute(aliceId);
  await waitFor(() => !alice.mod.grants.includes('publish:audio'), 'alice to learn she is muted', 3000);
  await waitFor(() => bob.events.length === 1, 'bob to be told', 3000);
  assert.equal(bob.events[0], { action: 'muted', by: { id: mo.client.self!.id, name: 'mo' }, target: { id: aliceId, name: 'alice' }, grant: 'publish:audio' });
  assert.not.ok(ts.server.sessions.get(aliceId)!.grants.has('publish:audio'));

  alice.say('after');
  alice.say('after');
  await sleep(200);
  assert.not.ok(bob.heard.includes('after'), 'frames of a muted session are not relayed');
  assert.ok((ts.server.metrics.mediaRefused.get('no-grant') ?? 0) >= 2);

  mo.mod.allow(aliceId, 'publish:audio');
  await waitFor(() => alice.mod.grants.includes('publish:audio'), 'alice to be allowed again', 3000);
  alice.say('again');
  await waitFor(() => bob.heard.includes('again'), 'bob to hear alice again', 3000);
});

test('a participant without moderate gets MODERATION_NOT_ALLOWED and changes nothing; allow cannot give a grant the token lacked', async () => {
  const ts = await start();
  const mo = await member(ts, 'mo', MODERATOR);
  const alice = await member(ts, 'alice');
  const viewer = await member(ts, 'viewer', ['join', 'subscribe']);
  await mo.client.connect();
  await alice.client.connect();
  await viewer.client.connect();
  alice.mod.mute(mo.client.self!.id);
  alice.mod.lock();
  await waitFor(() => alice.errors.length === 2, 'two refusals', 3000);
  assert.equal(alice.errors, ['MODERATION_NOT_ALLOWED', 'MODERATION_NOT_ALLOWED']);
  assert.ok(ts.server.sessions.get(mo.client.self!.id)!.grants.has('publish:audio'));
  mo.mod.allow(viewer.client.self!.id, 'publish:audio');
  await waitFor(() => mo.errors.length === 1, 'the refusal', 3000);
  assert.equal(mo.errors, ['MODERATION_NOT_ALLOWABLE']);
  assert.not.ok(ts.server.sessions.get(viewer.client.self!.id)!.grants.has('publish:audio'));
});

test('remove ends the session with a fatal MODERATION_REMOVED that names the moderator; the others see it leave', async () => {
  const ts = await start();
  const mo = await member(ts, 'mo', MODERATOR);
  const alice = await member(ts, 'alice');
  await mo.client.connect();
  await alice.client.connect();
  const closed = new Promise<unknown>((resolve) => alice.client.on('close', (event) => resolve(event.error)));
  const left = new Promise<{ reason: string }>((resolve) => mo.client.once('peerLeft', resolve));
  mo.mod.remove(alice.client.self!.id, 'spamming');
  const error = await closed;
  assert.ok(isConfabError(error));
  assert.is(error.code, 'MODERATION_REMOVED');
  assert.match(error.message, /mo removed you from the room: spamming/);
  assert.is((await left).reason, 'error');
});

test('stop-screen ends the share for everyone (reason revoked) and stop-video turns the camera off in every UI; the target learns its grants', async () => {
  const ts = await start();
  const mo = await member(ts, 'mo', MODERATOR);
  const alice = await member(ts, 'alice');
  const bob = await member(ts, 'bob');
  for (const m of [mo, alice, bob]) await m.client.connect();
  const aliceId = alice.client.self!.id;
  await alice.share.start();
  alice.video.setCamera(true);
  await waitFor(() => bob.share.presenter?.id === aliceId && bob.video.cameras.get(aliceId) === true, 'bob to see the share and the camera', 3000);

  mo.mod.stopScreen(aliceId);
  await waitFor(() => bob.stopped.length === 1 && mo.stopped.length === 1 && alice.stopped.length === 1, 'everyone to see the share end', 3000);
  assert.equal(bob.stopped[0], { id: aliceId, reason: 'revoked' });
  assert.is(bob.share.presenter, undefined);
  assert.is(alice.share.presenter, undefined, 'alice knows she stopped presenting');
  await waitFor(() => !alice.mod.grants.includes('publish:screen'), 'alice to learn her grants', 3000);

  mo.mod.stopVideo(aliceId);
  await waitFor(() => bob.video.cameras.get(aliceId) === false && mo.video.cameras.get(aliceId) === false, 'the camera off for everyone', 3000);
  assert.equal(bob.cameras.at(-1), { peer: aliceId, on: false });
  await waitFor(() => !alice.mod.grants.includes('publish:video'), 'alice to learn her grants', 3000);
  const late = await member(ts, 'late');
  await late.client.connect();
  await sleep(100);
  assert.equal([late.share.presenter, late.video.cameras.get(aliceId)], [undefined, undefined], 'a late joiner sees neither');
});

test('remove bars the name and the token from the room until the token expires, without lobby or lock; other people still join', async () => {
  const ts = await start();
  const mo = await member(ts, 'mo', MODERATOR);
  await mo.client.connect();
  const troll = await member(ts, 'troll', MEMBER, { token: await token(ts, 'troll', MEMBER, 2000) });
  await troll.client.connect();
  const shared = await token(ts, undefined, MEMBER);
  const guest = await member(ts, 'guest', MEMBER, { token: shared });
  await guest.client.connect();

  mo.mod.remove(troll.client.self!.id, 'spam');
  assert.is((await troll.closed as { code: string }).code, 'MODERATION_REMOVED');
  await refusedWith(ts, 'troll', 'MODERATION_BARRED', await token(ts, 'troll', MEMBER, 2000));
  await refusedWith(ts, 'TROLL', 'MODERATION_BARRED', await token(ts, 'TROLL', MEMBER));

  mo.mod.remove(guest.client.self!.id);
  await guest.closed;
  await refusedWith(ts, 'someone-else', 'MODERATION_BARRED', shared);
  const other = await member(ts, 'other');
  await other.client.connect();
  assert.is(other.client.state, 'open', 'a different person with a different token joins');

  // The troll's token expired after 2 s: its bar is lifted with it (a new token for that name works).
  await sleep(2200);
  const back = await member(ts, 'troll');
  await back.client.connect();
  assert.is(back.client.state, 'open');
});

test('a bar is kept in the store: the removed participant is still barred after the room emptied and the server restarted', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'confab-bars-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const plugins = () => [auth({ checkIntervalMs: 100 }), moderation()];
  const first = await startTestServer({ plugins: plugins(), server: { dataDir } });
  const mo = await member(first, 'mo', MODERATOR);
  await mo.client.connect();
  const troll = await member(first, 'troll');
  await troll.client.connect();
  mo.mod.remove(troll.client.self!.id, 'spam');
  assert.is((await troll.closed as { code: string }).code, 'MODERATION_REMOVED');
  const bars = () => first.server.store.db.selectFrom('moderation_bars').select(['room', 'name']).execute();
  for (const deadline = Date.now() + 3000; (await bars()).length === 0 && Date.now() < deadline;) await sleep(10);
  assert.equal(await bars(), [{ room: ROOM, name: 'troll' }]);
  await mo.client.close();
  await first.close({ keepData: true });

  const second = await startTestServer({ plugins: plugins(), server: { dataDir } });
  cleanups.push(() => second.close({ keepData: true }));
  await refusedWith(second, 'troll', 'MODERATION_BARRED', await token(second, 'troll', MEMBER));
  const other = await member(second, 'other');
  await other.client.connect();
  assert.is(other.client.state, 'open', 'someone else joins');
});

test('revoke closes every session holding the participant\'s token with AUTH_TOKEN_REVOKED; the token is refused after; others keep working', async () => {
  const ts = await start();
  const mo = await member(ts, 'mo', MODERATOR);
  const bob = await member(ts, 'bob');
  await mo.client.connect();
  await bob.client.connect();
  const shared = await token(ts, undefined, MEMBER);
  const one = await member(ts, 'one', MEMBER, { token: shared });
  const two = await member(ts, 'two', MEMBER, { token: shared });
  await one.client.connect();
  await two.client.connect();
  bob.mod.revoke(one.client.self!.id);
  await waitFor(() => bob.errors.includes('MODERATION_NOT_ALLOWED'), 'bob to be refused', 3000);

  mo.mod.revoke(one.client.self!.id, 'leaked invitation');
  for (const m of [one, two]) {
    const error = await m.closed;
    assert.ok(isConfabError(error));
    assert.is(error.code, 'AUTH_TOKEN_REVOKED');
    assert.match(error.message, /mo revoked it: leaked invitation/);
  }
  await waitFor(() => bob.events.some((e) => e.action === 'revoked'), 'the room to be told', 3000);
  await refusedWith(ts, 'three', 'AUTH_TOKEN_REVOKED', shared);
  assert.is(bob.client.state, 'open');
  bob.say('still here');
  await waitFor(() => mo.heard.includes('still here'), 'bob to be heard', 3000);
});

test('a token refresh (auth) keeps a moderator\'s mute, gives the grants the new token adds, and the client is told through grantsChanged', async () => {
  const ts = await start();
  const mo = await member(ts, 'mo', MODERATOR);
  const alice = await member(ts, 'alice');
  const refresher = alice.client.use(authClient());
  await mo.client.connect();
  await alice.client.connect();
  mo.mod.mute(alice.client.self!.id);
  await waitFor(() => !alice.mod.grants.includes('publish:audio'), 'the mute', 3000);
  const refreshed = await refresher.refresh(await token(ts, 'alice', MODERATOR));
  assert.ok(refreshed.grants.includes('moderate'), 'the new grant');
  assert.not.ok(refreshed.grants.includes('publish:audio'), 'still muted');
  await waitFor(() => alice.mod.grants.includes('moderate'), 'alice to be told her new grants', 3000);
  assert.equal([...alice.mod.grants].sort(), [...refreshed.grants].sort());
});

test('lock refuses newcomers with MODERATION_ROOM_LOCKED (moderators still get in); unlock lets them in', async () => {
  const ts = await start();
  const mo = await member(ts, 'mo', MODERATOR);
  await mo.client.connect();
  mo.mod.lock();
  await waitFor(() => mo.mod.locked, 'the lock to be announced', 3000);
  const late = await member(ts, 'late');
  try {
    await late.client.connect();
    assert.unreachable('joined a locked room');
  } catch (error) {
    assert.ok(isConfabError(error));
    assert.is(error.code, 'MODERATION_ROOM_LOCKED');
  }
  const mo2 = await member(ts, 'mo2', MODERATOR);
  await mo2.client.connect();
  mo.mod.unlock();
  await waitFor(() => !mo.mod.locked, 'the unlock', 3000);
  const later = await member(ts, 'later');
  await later.client.connect();
});

test('the lobby holds a newcomer before WELCOME (longer than its handshake timeout) until a moderator admits it', async () => {
  const ts = await start({ lobbyNoticeMs: 200 });
  const mo = await member(ts, 'mo', MODERATOR);
  const bob = await member(ts, 'bob');
  await mo.client.connect();
  await bob.client.connect();
  mo.mod.setLobby(true);
  await waitFor(() => mo.mod.lobby, 'the lobby to be on', 3000);

  const newcomer = await member(ts, 'newcomer', MEMBER, { handshakeTimeoutMs: 600 });
  const joined = newcomer.client.connect();
  await waitFor(() => mo.mod.waiting.length === 1, 'the moderator to see the newcomer', 3000);
  assert.is(mo.mod.waiting[0]!.name, 'newcomer');
  await sleep(1000);
  assert.is(newcomer.client.state, 'connecting', 'still waiting, past its 600 ms handshake timeout');
  assert.ok(newcomer.errors.includes('MODERATION_IN_LOBBY'));
  assert.is(bob.client.peers.size, 1, 'bob does not see the newcomer');
  assert.equal(bob.mod.waiting, [], 'only moderators see the lobby');

  mo.mod.admit(mo.mod.waiting[0]!.id);
  const welcome = await joined;
  assert.is(welcome.name, 'newcomer');
  await waitFor(() => bob.client.peers.size === 2, 'bob to see the newcomer', 3000);
  await waitFor(() => mo.mod.waiting.length === 0, 'the lobby to empty', 3000);
});

test('deny refuses a lobby newcomer with MODERATION_DENIED; one that hangs up leaves the lobby list', async () => {
  const ts = await start();
  const mo = await member(ts, 'mo', MODERATOR);
  await mo.client.connect();
  mo.mod.setLobby(true);
  await waitFor(() => mo.mod.lobby, 'the lobby', 3000);

  const denied = await member(ts, 'denied');
  const attempt = denied.client.connect().catch((error: unknown) => error);
  await waitFor(() => mo.mod.waiting.length === 1, 'the newcomer in the lobby', 3000);
  mo.mod.deny(mo.mod.waiting[0]!.id);
  const error = await attempt;
  assert.ok(isConfabError(error));
  assert.is(error.code, 'MODERATION_DENIED');

  const raw = await RawClient.tcp(ts.port);
  raw.sendJson(FrameType.HELLO, { v: 1, name: 'quitter', room: ROOM, token: await token(ts, 'quitter', MEMBER) });
  await waitFor(() => mo.mod.waiting.length === 1, 'the quitter in the lobby', 3000);
  raw.destroy();
  await waitFor(() => mo.mod.waiting.length === 0, 'the quitter to leave the lobby', 3000);
  assert.is([...ts.server.sessions.values()].length, 1, 'no session was made for the quitter');
});

test.run();
