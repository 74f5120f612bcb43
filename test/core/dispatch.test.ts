/**
 * core/dispatch.ts: where a session's frames go once it has joined. Core frames are answered (PING), ended
 * (BYE) or refused; channel frames go through the channel's parse to the plugin's handler, and what a
 * handler throws comes back as an ERROR naming the channel and the request. The malformed-bytes cases
 * (sizes, UTF-8, JSON) are in malformed-input.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { jsonChannel } from '../../core/channel-def.js';
import { definePlugin } from '../../core/config.js';
import { defineErrors } from '../../core/errors.js';
import { FrameType } from '../../core/protocol.js';
import { startTestServer, waitFor, type TestServer } from '../../core/testing.js';
import { RawClient } from '../helpers/raw-client.js';

const ECHO_ERRORS = defineErrors('echo', { ECHO_BAD_REQUEST: 'send {"op":"say","text":string}' });
const ECHO = jsonChannel<{ op: 'say'; text: string; ref?: string }, { op: 'said'; text: string }>('echo', {
  parse: (message) => {
    if (message.op !== 'say' || typeof message.text !== 'string') throw ECHO_ERRORS.ECHO_BAD_REQUEST();
    return { op: 'say', text: message.text };
  },
});

/** Echoes `say`; a text of "crash" makes the handler throw a plain Error, as a buggy plugin would. */
const echo = definePlugin({
  name: 'echo',
  channels: [ECHO],
  errors: ECHO_ERRORS,
  setup(ctx) {
    const channel = ctx.channel(ECHO);
    channel.onMessage((session, request) => {
      if (request.text === 'crash') throw new Error('a bug');
      channel.send(session, { op: 'said', text: request.text });
    });
  },
});

async function withLab(body: (lab: TestServer, raw: RawClient, channel: number) => Promise<void>): Promise<void> {
  const lab = await startTestServer({ plugins: [echo] });
  const { client, welcome } = await RawClient.join('tcp', lab.port, { name: 'raw' });
  try {
    await body(lab, client, welcome.channels.echo!);
  } finally {
    client.destroy();
    await lab.close();
  }
}

test('PING is answered with a PONG of the same bytes', async () => {
  await withLab(async (_lab, raw) => {
    raw.send(FrameType.PING, new Uint8Array([1, 2, 3, 250]));
    const pong = await raw.next((frame) => frame.type === FrameType.PONG);
    assert.equal([...pong.payload], [1, 2, 3, 250]);
  });
});

test('a channel message goes through parse to the handler; a refusal names the channel and the request\'s ref', async () => {
  await withLab(async (_lab, raw, channel) => {
    raw.sendJson(channel, { op: 'say', text: 'hi' });
    assert.equal((await raw.next((frame) => frame.type === channel)).json, { op: 'said', text: 'hi' });
    raw.sendJson(channel, { op: 'shout', ref: 'r7' });
    const error = await raw.nextError();
    assert.equal([error.code, error.channel, error.ref, error.fatal], ['ECHO_BAD_REQUEST', 'echo', 'r7', false]);
  });
});

test('a handler that throws a plain Error gets INTERNAL_ERROR for that message only; the session goes on', async () => {
  await withLab(async (lab, raw, channel) => {
    raw.sendJson(channel, { op: 'say', text: 'crash', ref: 'r1' });
    const error = await raw.nextError();
    assert.equal([error.code, error.channel, error.fatal], ['INTERNAL_ERROR', 'echo', false]);
    raw.sendJson(channel, { op: 'say', text: 'still here' });
    assert.equal((await raw.next((frame) => frame.type === channel)).json, { op: 'said', text: 'still here' });
    assert.is(lab.server.sessions.size, 1);
  });
});

test('core frames a client may not send get coded refusals; UDP_BIND belongs on UDP', async () => {
  await withLab(async (_lab, raw) => {
    raw.sendJson(FrameType.WELCOME, {});
    assert.is((await raw.nextError()).code, 'UNKNOWN_FRAME_TYPE');
    raw.send(FrameType.UDP_BIND, new Uint8Array(8));
    assert.is((await raw.nextError()).code, 'CHANNEL_NOT_ALLOWED');
    raw.send(0x0e);
    assert.is((await raw.nextError()).code, 'UNKNOWN_FRAME_TYPE');
  });
});

test('BYE ends the session at once: the registry forgets it', async () => {
  await withLab(async (lab, raw) => {
    raw.sendJson(FrameType.BYE, { reason: 'done' });
    await raw.closed;
    await waitFor(() => lab.server.sessions.size === 0, 'the session to end');
  });
});

test.run();
