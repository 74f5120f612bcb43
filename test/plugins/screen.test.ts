import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import type { ConfabError } from '../../core/errors.js';
import { decodeMediaFrame, encodeMediaFrame, MediaCodec, type MediaFrame } from '../../core/media.js';
import { screenClient, type ScreenApi } from '../../plugins/screen/client.js';
import type { Presenter, StopReason } from '../../plugins/screen/protocol.js';
import { screen } from '../../plugins/screen/server.js';
import { RawClient } from '../helpers/raw-client.js';
import { sleep, startTestServer, waitFor, type TestServer } from '../../core/testing.js';

interface Member {
  client: ConfabClient;
  screen: ScreenApi;
  frames: MediaFrame[];
  started: Presenter[];
  stopped: Array<{ presenter: Presenter; reason: StopReason }>;
}

async function join(port: number, name: string, room = 'lab', transport: 'tcp' | 'ws' = 'tcp'): Promise<Member> {
  const url = transport === 'tcp' ? `tcp://127.0.0.1:${port}` : `ws://127.0.0.1:${port}/ws`;
  const client = new ConfabClient({ url, name, room, reconnect: false });
  const api = client.use(screenClient());
  const member: Member = { client, screen: api, frames: [], started: [], stopped: [] };
  api.on('frame', (frame) => member.frames.push({ ...frame, data: frame.data.slice() }));
  api.on('started', ({ presenter }) => member.started.push(presenter));
  api.on('stopped', (event) => member.stopped.push(event));
  await client.connect();
  return member;
}

async function withServer(body: (t: TestServer) => Promise<void>, serverOptions = {}): Promise<void> {
  const server = await startTestServer({ plugins: [screen()], server: serverOptions });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

function picture(mark: number, size = 2000): Uint8Array {
  const bytes = new Uint8Array(size).fill(mark);
  bytes[0] = 0xff;
  bytes[1] = 0xd8;
  return bytes;
}

test('screen.start() takes the one presenter slot; a second gets SCREEN_BUSY; stop() frees it', async () => {
  await withServer(async ({ port }) => {
    const a = await join(port, 'alice');
    const b = await join(port, 'bob', 'lab', 'ws');
    const other = await join(port, 'eve', 'elsewhere');
    await a.screen.start();
    assert.equal(a.screen.presenter, { id: a.client.self!.id, name: 'alice' });
    await waitFor(() => b.started.length === 1);
    assert.equal(b.started[0], { id: a.client.self!.id, name: 'alice' });
    assert.equal(b.screen.presenter, a.screen.presenter);
    const refusal = await b.screen.start().then(() => undefined, (error: ConfabError) => error);
    assert.is(refusal?.code, 'SCREEN_BUSY');
    assert.match(refusal!.message, /alice/);
    assert.is(refusal?.fatal, false);
    // The other room can have its own presenter.
    await other.screen.start();
    assert.is(b.started.length, 1, 'the other room\'s share is not announced here');
    // Starting again as the presenter is harmless.
    await a.screen.start();
    a.screen.stop();
    await waitFor(() => b.stopped.length === 1 && a.stopped.length === 1);
    assert.equal(b.stopped[0], { presenter: { id: a.client.self!.id, name: 'alice' }, reason: 'stopped' });
    assert.is(b.screen.presenter, undefined);
    await b.screen.start();
    assert.is(a.screen.presenter?.name, 'bob');
    for (const m of [a, b, other]) await m.client.close();
  });
});

test('the presenter\'s frames reach the others with its id; a non-presenter\'s frames are dropped', async () => {
  await withServer(async ({ port, server }) => {
    const a = await join(port, 'alice');
    const b = await join(port, 'bob');
    const c = await join(port, 'carol');
    assert.is(a.screen.publish(picture(1)), false, 'publish() before start() sends nothing');
    await a.screen.start();
    assert.ok(a.screen.publish(picture(2)));
    await waitFor(() => b.frames.length === 1 && c.frames.length === 1);
    assert.is(b.frames[0].sender, a.client.self!.id);
    assert.is(b.frames[0].data[2], 2);
    // A raw client that is not the presenter sends a well-formed frame anyway.
    const { client: raw, welcome } = await RawClient.join('tcp', port, { name: 'sneaky', room: 'lab' });
    raw.send(welcome.channels.screen, encodeMediaFrame({ codec: MediaCodec.JPEG, keyframe: true, seq: 0, captureMs: Date.now(), sender: '', data: picture(3) }));
    await waitFor(() => server.metrics.mediaRefused.get('not-presenter') === 1);
    a.screen.publish(picture(4));
    await waitFor(() => b.frames.length === 2);
    assert.equal(b.frames.map((f) => f.data[2]), [2, 4]);
    assert.is(a.frames.length, 0, 'the presenter does not get its own frames back');
    raw.destroy();
    for (const m of [a, b, c]) await m.client.close();
  });
});

test('a late joiner learns the presenter and receives the latest keyframe at once', async () => {
  await withServer(async ({ port }) => {
    const a = await join(port, 'alice');
    await a.screen.start();
    a.screen.publish(picture(1));
    a.screen.publish(picture(2));
    a.screen.publish(picture(3), { keyframe: false, codec: MediaCodec.VP8 });
    await sleep(100);
    const late = await join(port, 'late');
    await waitFor(() => late.started.length === 1 && late.frames.length === 1, 'the presenter and the latest keyframe', 3000);
    assert.is(late.screen.presenter?.id, a.client.self!.id);
    assert.is(late.frames[0].data[2], 2, 'the latest keyframe, not the later delta frame');
    assert.ok(late.frames[0].keyframe);
    assert.is(late.frames[0].sender, a.client.self!.id);
    // A raw joiner sees the same, in this order: started, then the frame.
    const { client: raw, welcome } = await RawClient.join('tcp', port, { name: 'raw', room: 'lab' });
    const started = await raw.next((f) => f.type === welcome.channels['screen-control']);
    assert.equal(started.json, { op: 'started', presenter: { id: a.client.self!.id, name: 'alice' } });
    const frame = await raw.next((f) => f.type === welcome.channels.screen);
    const decoded = decodeMediaFrame(frame.payload);
    assert.ok(decoded.ok && decoded.frame.data[2] === 2);
    raw.destroy();
    for (const m of [a, late]) await m.client.close();
  });
});

test('the share ends when the presenter leaves or its connection is lost for good', async () => {
  await withServer(async ({ port }) => {
    const a = await join(port, 'alice');
    const b = await join(port, 'bob');
    await a.screen.start();
    a.screen.publish(picture(1));
    await waitFor(() => b.frames.length === 1);
    await a.client.close();
    await waitFor(() => b.stopped.length === 1);
    assert.equal(b.stopped[0], { presenter: { id: a.client.self!.id, name: 'alice' }, reason: 'left' });
    // A late joiner after the share ended gets neither `started` nor a stale frame.
    const late = await join(port, 'late');
    await sleep(100);
    assert.equal([late.started.length, late.frames.length], [0, 0]);
    // A presenter whose connection drops keeps the slot through the resume grace, then loses it.
    const { client: raw, welcome } = await RawClient.join('tcp', port, { name: 'raw', room: 'lab' });
    raw.sendJson(welcome.channels['screen-control'], { op: 'start' });
    await waitFor(() => b.started.length === 1);
    raw.destroy();
    await waitFor(() => b.stopped.length === 2, 'the share to end after the resume grace', 3000);
    assert.is(b.stopped[1].reason, 'left');
    await b.screen.start();
    for (const m of [b, late]) await m.client.close();
  }, { resumeGraceMs: 200 });
});

test('screen-control refuses with coded errors: not allowed, not presenter, bad request', async () => {
  await withServer(async ({ port, server }) => {
    const a = await join(port, 'alice');
    const { client: raw, welcome } = await RawClient.join('tcp', port, { name: 'raw', room: 'lab' });
    const control = welcome.channels['screen-control'];
    raw.sendJson(control, { op: 'stop' });
    assert.is((await raw.nextError()).code, 'SCREEN_NOT_PRESENTER');
    raw.sendJson(control, { op: 'present' });
    const bad = await raw.nextError();
    assert.equal([bad.code, bad.channel, bad.fatal], ['SCREEN_BAD_REQUEST', 'screen-control', false]);
    await a.screen.start();
    raw.sendJson(control, { op: 'start', ref: 'r1' });
    const busy = await raw.nextError();
    assert.equal([busy.code, busy.ref], ['SCREEN_BUSY', 'r1']);
    server.sessions.get(welcome.session)!.grants.delete('publish:screen');
    raw.sendJson(control, { op: 'start', ref: 'r2' });
    assert.is((await raw.nextError()).code, 'SCREEN_NOT_ALLOWED');
    raw.destroy();
    await a.client.close();
  });
});

test('session.removeGrant(publish:screen) ends the share with reason revoked; removeGrant(subscribe) stops delivery', async () => {
  await withServer(async ({ port, server }) => {
    const a = await join(port, 'alice');
    const b = await join(port, 'bob');
    const c = await join(port, 'carol');
    await a.screen.start();
    a.screen.publish(picture(1));
    await waitFor(() => b.frames.length === 1 && c.frames.length === 1, 'the first frame', 3000);

    server.sessions.get(c.client.self!.id)!.removeGrant('subscribe');
    a.screen.publish(picture(2));
    await waitFor(() => b.frames.length === 2, 'bob to get the second frame', 3000);
    await sleep(100);
    assert.is(c.frames.length, 1, 'carol lost subscribe: no more frames');

    server.sessions.get(a.client.self!.id)!.removeGrant('publish:screen');
    await waitFor(() => b.stopped.length === 1 && a.stopped.length === 1, 'everyone to see the share end', 3000);
    assert.equal(b.stopped[0], { presenter: { id: a.client.self!.id, name: 'alice' }, reason: 'revoked' });
    assert.is(a.screen.presenter, undefined, 'alice knows she no longer presents');
    assert.is(b.screen.presenter, undefined);

    const late = await join(port, 'late');
    await sleep(100);
    assert.equal([late.started, late.frames], [[], []], 'a late joiner sees no share and gets no keyframe');
    const refusal = await a.screen.start().then(() => undefined, (error: ConfabError) => error);
    assert.is(refusal?.code, 'SCREEN_NOT_ALLOWED');
    server.sessions.get(a.client.self!.id)!.addGrant('publish:screen');
    await b.screen.start();
    assert.equal(b.screen.presenter, { id: b.client.self!.id, name: 'bob' }, 'the slot is free');
    for (const m of [a, b, c, late]) await m.client.close();
  });
});

test('malformed screen frames from the presenter are dropped and counted; a flood closes it', async () => {
  await withServer(async ({ port, server }) => {
    const b = await join(port, 'bob');
    const { client: raw, welcome } = await RawClient.join('tcp', port, { name: 'raw', room: 'lab' });
    raw.sendJson(welcome.channels['screen-control'], { op: 'start' });
    await waitFor(() => b.started.length === 1);
    const short = new Uint8Array(8);
    for (let i = 0; i < 60; i++) raw.send(welcome.channels.screen, short);
    assert.is((await raw.nextError()).code, 'MEDIA_REFUSED', 'the first malformed frame is reported');
    const error = await raw.nextError();
    assert.is(error.code, 'MEDIA_MALFORMED');
    await waitFor(() => b.stopped.length === 1);
    assert.is(b.frames.length, 0);
    assert.ok((server.metrics.mediaRefused.get('short-header') ?? 0) > 50);
    await b.client.close();
  });
});

test.run();
