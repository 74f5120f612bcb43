/**
 * Codec negotiation of the audio-mix plugin: the server announces the codecs it takes on join, and an
 * Opus-preferring client publishes and listens in PCM on a server without Opus.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import { encodeMediaFrame, MediaCodec } from '../../core/media.js';
import { audioClient, type AudioApi, type MixFrame } from '../../plugins/audio-mix/client.js';
import { loadOpus } from '../../plugins/audio-mix/opus-codec.js';
import type { AudioCodecName } from '../../plugins/audio-mix/protocol.js';
import { audioMix } from '../../plugins/audio-mix/server.js';
import { chat } from '../../plugins/chat/server.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, waitFor, type TestServer } from '../../core/testing.js';
import { concat, magnitude, paced, toneFrame } from './audio-signal.js';

interface Member {
  client: ConfabClient;
  audio: AudioApi;
  mixes: MixFrame[];
  listening: Array<AudioCodecName | null>;
}

/** Joins room `lab` with an audio client that prefers `codec`, and waits for the server's codecs. */
async function join(port: number, name: string, codec: AudioCodecName): Promise<Member> {
  const client = new ConfabClient({ url: `tcp://127.0.0.1:${port}`, name, room: 'lab' });
  const audio = client.use(audioClient({ codec, listen: true }));
  const member: Member = { client, audio, mixes: [], listening: [] };
  audio.on('mix', (mix) => member.mixes.push(mix));
  audio.on('listening', (listening) => member.listening.push(listening));
  await client.connect();
  await audio.ready;
  await waitFor(() => audio.serverCodecs !== undefined && member.listening.length > 0, `${name}: the codecs and the listen answer`, 3000);
  return member;
}

/** The mix heard in `count` frames after seq `from`, as one signal. */
function heardAfter(member: Member, from: number, count: number): Int16Array {
  const frames = member.mixes.filter((mix) => mix.seq > from).slice(0, count);
  assert.is(frames.length, count, `${count} mix frames after seq ${from}`);
  return concat(frames.map((mix) => mix.pcm));
}

function refused(t: TestServer, reason: string): number {
  return t.server.metrics.mediaRefused.get(reason) ?? 0;
}

test('a server with Opus announces ["opus","pcm"], and an Opus client sends Opus', async () => {
  const t = await startTestServer({ plugins: [audioMix()] });
  try {
    const a = await join(t.port, 'alice', 'opus');
    assert.equal(a.audio.serverCodecs, ['opus', 'pcm']);
    assert.is(a.audio.sendCodec, 'opus');
    assert.equal(a.listening, ['opus']);
    await a.client.close();
  } finally {
    await t.close();
  }
});

test('audioMix({ opus: false }): Opus-preferring clients publish and listen in PCM, and the tones get through', async () => {
  const t = await startTestServer({ plugins: [audioMix({ opus: false })] });
  try {
    const alice = await join(t.port, 'alice', 'opus');
    const bob = await join(t.port, 'bob', 'opus');
    const carol = await join(t.port, 'carol', 'opus');
    assert.equal(alice.audio.serverCodecs, ['pcm']);
    assert.is(alice.audio.sendCodec, 'pcm', 'publish falls back to PCM');
    assert.is(carol.listening.at(-1), 'pcm', 'the mix comes in PCM');

    // Bob encodes Opus himself (as a browser with WebCodecs would): the client turns it into PCM for this server.
    const opus = await loadOpus(() => undefined);
    assert.ok(opus, 'an Opus codec loads in the test environment');
    const encoder = opus.createEncoder();
    const startSeq = Math.max(0, ...carol.mixes.map((mix) => mix.seq));
    await paced(60, (i) => {
      assert.ok(alice.audio.publish(toneFrame(440, i)), 'alice publishes');
      assert.ok(bob.audio.publishEncoded(encoder.encode(toneFrame(880, i)), 'opus'), 'bob publishes');
    });
    const heard = heardAfter(carol, startSeq + 15, 30);
    assert.ok(magnitude(heard, 440) > 4000, `carol hears alice's 440 Hz (${magnitude(heard, 440)})`);
    assert.ok(magnitude(heard, 880) > 3000, `carol hears bob's 880 Hz (${magnitude(heard, 880)})`);
    assert.ok(carol.mixes.every((mix) => mix.codec === 'pcm'));
    assert.is(refused(t, 'audio-no-opus'), 0, 'no Opus frame reached the server');
    for (const member of [alice, bob, carol]) await member.client.close();
  } finally {
    await t.close();
  }
});

test('a client that ignores the announcement and keeps sending Opus to a PCM-only server is not disconnected', async () => {
  const t = await startTestServer({ plugins: [audioMix({ opus: false })] });
  try {
    const { client, welcome } = await RawClient.join('tcp', t.port, { name: 'legacy', room: 'lab' });
    const audioId = welcome.channels.audio!;
    for (let seq = 0; seq < 80; seq++) {
      client.send(audioId, encodeMediaFrame({ codec: MediaCodec.OPUS, keyframe: true, seq, captureMs: 0, sender: '', data: new Uint8Array([0xf8, 0xff, 0xfe]) }));
    }
    await waitFor(() => refused(t, 'audio-no-opus') === 80, 'the 80 Opus frames dropped and counted', 3000);
    assert.is(refused(t, 'codec-not-accepted'), 0, 'Opus is not treated as malformed');
    assert.not.ok(client.isClosed, 'the sender stays connected');
    client.destroy();
  } finally {
    await t.close();
  }
});

test('on a server without audio-mix, an audio client joins quietly: no error, no unhandled rejection', async () => {
  const ts = await startTestServer({ plugins: [chat()] });
  const problems: unknown[] = [];
  const onRejection = (reason: unknown) => problems.push(reason);
  process.on('unhandledRejection', onRejection);
  try {
    const client = new ConfabClient({ url: `tcp://127.0.0.1:${ts.port}`, name: 'alice', room: 'lab' });
    client.on('error', (error) => problems.push(error));
    const audio = client.use(audioClient({ codec: 'opus', listen: true }));
    await client.connect();
    await audio.ready;
    await new Promise((resolve) => setTimeout(resolve, 200));
    client.dropConnection();
    await new Promise<void>((resolve) => client.once('resumed', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(problems.map(String), []);
    await client.close();
  } finally {
    process.off('unhandledRejection', onRejection);
    await ts.close();
  }
});

test.run();
