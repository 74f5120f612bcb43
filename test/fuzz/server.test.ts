/**
 * The whole server under arbitrary input, over real sockets: every channel that the built-in plugins (and
 * auth) announce in WELCOME gets arbitrary JSON objects, arbitrary bytes and media-shaped frames; the server
 * must never crash, and a bystander's chat must keep working after every batch.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import { encodeMediaFrame, MediaCodec } from '../../core/media.js';
import { FrameType } from '../../core/protocol.js';
import { chatClient } from '../../plugins/chat/client.js';
import { auth, secretPath } from '../../plugins/auth/server.js';
import { signToken } from '../../plugins/auth/token.js';
import { builtinPlugins } from '../../plugins/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../../core/testing.js';
import { runs } from './runs.js';

/** What a fuzzer sends on a channel: a JSON object shaped like a request, bytes, or a media frame. */
function payloadArb(ops: string[]) {
  const field = fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
    fc.jsonValue({ maxDepth: 3 }), fc.constantFrom('', '../../etc/passwd', 'x'.repeat(5000), '\u0000', '__proto__'));
  const request = fc.record({ op: fc.oneof(fc.constantFrom(...ops), fc.string({ maxLength: 12 })) })
    .chain((base) => fc.dictionary(fc.constantFrom('id', 'text', 'token', 'ref', 'reason', 'to', 'name', 'room', 'size', 'offset', 'grant', 'on', 'clientId', 'title', 'options', 'at', 'hash', 'chunk', 'start', 'end', '__proto__', 'constructor'), field, { maxKeys: 6 })
      .map((rest) => ({ ...rest, ...base })));
  const json = request.map((value) => new TextEncoder().encode(JSON.stringify(value)));
  const media = fc.record({ codec: fc.constantFrom(...Object.values(MediaCodec)), keyframe: fc.boolean(), seq: fc.nat(), captureMs: fc.double(), sender: fc.string({ maxLength: 20 }), data: fc.uint8Array({ maxLength: 2000 }) })
    .map((frame) => encodeMediaFrame(frame));
  return fc.oneof(json, fc.uint8Array({ maxLength: 3000 }), media);
}

const OPS = ['send', 'mute', 'stop-video', 'stop-screen', 'allow', 'remove', 'lock', 'unlock', 'lobby', 'admit', 'deny',
  'offer', 'upload', 'chunk', 'download', 'list', 'delete', 'create', 'update', 'cancel', 'start', 'stop', 'present', 'subscribe', 'keyframe', 'vote', 'close', 'revoke', 'refresh'];

let ts: TestServer;
let bystander: ConfabClient;
let bystanderChat: ReturnType<ReturnType<typeof chatClient>['attach']>;
/** One token for every session of the test, with every grant (the fuzzer moderates). */
let token: string;

test.before(async () => {
  const plugins = [auth(), ...builtinPlugins().filter((plugin) => plugin.name !== 'discovery')];
  ts = await startTestServer({ plugins: plugins, server: { jsonMessagesPerSecond: 100_000, binaryMessagesPerSecond: 100_000, mediaMessagesPerSecond: 100_000, maxDroppedMessages: 1_000_000 } });
  const secret = Buffer.from(readFileSync(secretPath(ts.dataDir), 'utf8').trim(), 'base64url');
  token = await signToken(secret, { room: 'fuzz', grants: ['join', 'publish:audio', 'publish:video', 'publish:screen', 'subscribe', 'chat', 'files', 'moderate'], ttlSeconds: 3600 });
  bystander = new ConfabClient({ url: `tcp://127.0.0.1:${ts.port}`, name: 'bystander', room: 'fuzz', token, reconnect: false });
  bystanderChat = bystander.use(chatClient());
  await bystander.connect();
});

test.after(async () => {
  await bystander.close();
  await ts.close();
});

test('arbitrary payloads on every channel in WELCOME never crash the server; the bystander keeps chatting', async () => {
  const { client, welcome } = await RawClient.join('tcp', ts.port, { name: 'fuzzer', room: 'fuzz', token });
  const channels = Object.entries(welcome.channels);
  assert.ok(channels.length >= 3, `channels: ${channels.map(([name]) => name).join(', ')}`);
  let fuzzer = client;
  let batches = 0;
  await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom(...channels), payloadArb(OPS)), { minLength: 1, maxLength: 20 }), async (batch) => {
    if (fuzzer.isClosed) fuzzer = (await RawClient.join('tcp', ts.port, { name: 'fuzzer', room: 'fuzz', token })).client;
    for (const [[, id], payload] of batch) fuzzer.send(id, payload);
    fuzzer.send(FrameType.PING, new Uint8Array([batches & 0xff]));
    await fuzzer.next((f) => f.type === FrameType.PONG, 5000).catch(() => undefined);
    fuzzer.frames.length = 0;
    batches++;
    const sent = await bystanderChat.send(`alive ${batches}`);
    assert.is(sent.text, `alive ${batches}`);
    assert.is(bystander.state, 'open');
  }), runs(0.2));
  fuzzer.destroy();
});

test.run();
