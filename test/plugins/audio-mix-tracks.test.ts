import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import { isConfabError } from '../../core/errors.js';
import { encodeMediaFrame, MediaCodec, type MediaFrame } from '../../core/media.js';
import { FrameType } from '../../core/protocol.js';
import { audioClient, type AudioApi } from '../../plugins/audio-mix/client.js';
import { loadOpus } from '../../plugins/audio-mix/opus-codec.js';
import { parseAudioControlRequest } from '../../plugins/audio-mix/protocol.js';
import { audioMix } from '../../plugins/audio-mix/server.js';
import { RawClient } from '../helpers/raw-client.js';
import { sleep, startTestServer, waitFor, type TestServer } from '../../core/testing.js';
import { paced, toneFrame } from './audio-signal.js';

const opus = await loadOpus(() => {});

interface Member {
  client: ConfabClient;
  audio: AudioApi;
  id: string;
  /** `track` events: the speakers' own frames. */
  tracks: MediaFrame[];
  /** `frame` events: the mix. */
  mixes: MediaFrame[];
}

/** Joins `room` listening to the mix, and asks for the speakers' own frames when `tracks`. */
async function join(port: number, name: string, options: { room?: string; tracks?: boolean } = {}): Promise<Member> {
  const client = new ConfabClient({ url: `tcp://127.0.0.1:${port}`, name, room: options.room ?? 'lab' });
  const audio = client.use(audioClient({ codec: 'opus', listen: true }));
  const member: Member = { client, audio, id: '', tracks: [], mixes: [] };
  audio.on('track', (frame) => member.tracks.push({ ...frame, data: frame.data.slice() }));
  audio.on('frame', (frame) => member.mixes.push(frame));
  const confirmed = options.tracks ? new Promise((resolve) => audio.once('tracks', resolve)) : undefined;
  if (options.tracks) audio.receiveTracks(true);
  await client.connect();
  await audio.ready;
  await confirmed;
  member.id = client.self!.id;
  return member;
}

async function withServer(body: (t: TestServer) => Promise<void>): Promise<void> {
  const server = await startTestServer({ plugins: [audioMix()] });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

/** A raw client in room `lab`: sends exactly the frames and control messages a test gives it. */
async function rawSpeaker(port: number, name: string) {
  const { client, welcome } = await RawClient.join('tcp', port, { name, room: 'lab' });
  const audioId = welcome.channels.audio!;
  const controlId = welcome.channels['audio-control']!;
  return {
    client,
    id: welcome.session,
    /** Media frames received on `audio` so far (it never asks for the mix, so any are track frames). */
    mediaFrames: () => client.frames.filter((frame) => frame.type === audioId).length,
    sendPcm: (seq: number, pcm: Int16Array) =>
      client.send(audioId, encodeMediaFrame({ codec: MediaCodec.PCM_S16LE, keyframe: true, seq, captureMs: Date.now(), sender: '', data: new Uint8Array(pcm.buffer) })),
    control: (message: object) => client.sendJson(controlId, message),
  };
}

test('parseAudioControlRequest() takes {"op":"tracks","on":bool} and refuses it without a boolean', () => {
  assert.equal(parseAudioControlRequest({ op: 'tracks', on: true }), { op: 'tracks', on: true });
  assert.equal(parseAudioControlRequest({ op: 'tracks', on: false }), { op: 'tracks', on: false });
  for (const bad of [{ op: 'tracks' }, { op: 'tracks', on: 'yes' }]) {
    try {
      parseAudioControlRequest(bad);
      assert.unreachable('should throw');
    } catch (error) {
      assert.ok(isConfabError(error) && error.code === 'AUDIO_BAD_REQUEST', String(error));
    }
  }
});

test('tracks: a speaker\'s Opus frames reach a track listener as sent, with the speaker\'s id; never back to the speaker, to a listener without the op, or to another room', async () => {
  assert.ok(opus, 'an Opus codec loads');
  await withServer(async (t) => {
    const alice = await join(t.port, 'alice', { tracks: true });
    const bob = await join(t.port, 'bob', { tracks: true });
    const carol = await join(t.port, 'carol');
    const dave = await join(t.port, 'dave', { room: 'elsewhere', tracks: true });
    const framesOut = t.server.metrics.framesOut.get('audio') ?? 0;
    const encoder = opus!.createEncoder();
    const sent: Array<{ seq: number; data: Uint8Array }> = [];
    const start = Date.now();
    await paced(25, (i) => {
      const data = encoder.encode(toneFrame(440, i));
      sent.push({ seq: i, data });
      alice.audio.publishEncoded(data, 'opus', { captureMs: start + i * 20 });
      bob.audio.publish(toneFrame(880, i));
    });
    await waitFor(() => bob.tracks.length >= 25 && alice.tracks.length >= 25, 'the speakers\' frames', 3000);
    await sleep(200);

    assert.ok(bob.tracks.every((frame) => frame.sender === alice.id), 'bob gets alice\'s frames only, with her id');
    assert.ok(alice.tracks.every((frame) => frame.sender === bob.id), 'alice gets bob\'s frames, never her own');
    assert.is(bob.tracks.length, 25);
    bob.tracks.forEach((frame, i) => {
      assert.is(frame.codec, MediaCodec.OPUS);
      assert.is(frame.seq, sent[i]!.seq, 'in order, with the speaker\'s sequence numbers');
      assert.is(frame.captureMs, start + i * 20, 'and the speaker\'s capture times');
      assert.equal(frame.data, sent[i]!.data, 'the packet as it was sent, not re-encoded');
    });
    assert.is(carol.tracks.length, 0, 'carol did not ask: she gets only the mix');
    assert.ok(carol.mixes.length > 0 && carol.mixes.every((frame) => frame.sender === ''));
    assert.is(dave.tracks.length, 0, 'nothing crosses to another room');
    assert.ok(bob.mixes.every((frame) => frame.sender === ''), 'the mix still comes, as `frame`, apart from the tracks');
    const counted = (t.server.metrics.framesOut.get('audio') ?? 0) - framesOut;
    assert.ok(counted >= 50 + carol.mixes.length, `relayed track frames are counted in framesOut (${counted})`);

    // Turned off: no more of them.
    const confirmed = new Promise((resolve) => bob.audio.once('tracks', resolve));
    bob.audio.receiveTracks(false);
    assert.is(await confirmed, false);
    const before = bob.tracks.length;
    await paced(10, (i) => alice.audio.publish(toneFrame(440, 25 + i)));
    await waitFor(() => alice.tracks.length >= 25 && carol.mixes.length > 0, 'a condition', 1000);
    await sleep(200);
    assert.is(bob.tracks.length, before, 'no track frames after {"op":"tracks","on":false}');
    for (const member of [alice, bob, carol, dave]) await member.client.close();
  });
});

test('tracks: a muted speaker\'s frames are not relayed (the mixer drops them), and they are again once it unmutes', async () => {
  await withServer(async (t) => {
    const listener = await join(t.port, 'recorder', { tracks: true });
    const raw = await rawSpeaker(t.port, 'rawdy');
    raw.control({ op: 'mute', muted: true });
    await waitFor(() => listener.audio.mutedPeers.has(raw.id), 'the mute', 3000);
    await paced(10, (i) => raw.sendPcm(i, toneFrame(440, i)));
    await waitFor(() => (t.server.metrics.mediaRefused.get('audio-muted') ?? 0) === 10, 'the muted frames dropped', 3000);
    await sleep(100);
    assert.is(listener.tracks.length, 0, 'nothing of a muted speaker');
    raw.control({ op: 'mute', muted: false });
    await waitFor(() => !listener.audio.mutedPeers.has(raw.id), 'the unmute', 3000);
    await paced(10, (i) => raw.sendPcm(10 + i, toneFrame(440, 10 + i)));
    await waitFor(() => listener.tracks.length === 10, 'the unmuted frames', 3000);
    assert.ok(listener.tracks.every((frame) => frame.sender === raw.id && frame.codec === MediaCodec.PCM_S16LE && frame.data.length === 1920));
    raw.client.destroy();
    await listener.client.close();
  });
});

test('tracks: refused with AUDIO_NOT_ALLOWED without the subscribe grant, and AUDIO_BAD_REQUEST without "on"', async () => {
  await withServer(async (t) => {
    const raw = await rawSpeaker(t.port, 'rawdy');
    raw.control({ op: 'tracks' });
    const bad = await raw.client.next((f) => f.type === FrameType.ERROR);
    assert.is(bad.json.code, 'AUDIO_BAD_REQUEST');
    assert.is(bad.json.channel, 'audio-control');
    t.server.sessions.get(raw.id)!.grants.delete('subscribe');
    raw.control({ op: 'tracks', on: true });
    const refused = await raw.client.next((f) => f.type === FrameType.ERROR && f.json?.code !== 'AUDIO_BAD_REQUEST');
    assert.is(refused.json.code, 'AUDIO_NOT_ALLOWED');

    // Refused, so it gets nothing of a speaker (nor the mix, which it never asked for).
    const speaker = await join(t.port, 'alice');
    await paced(10, (i) => speaker.audio.publish(toneFrame(440, i)));
    await waitFor(() => speaker.mixes.length >= 10, 'the room to be mixing', 3000);
    assert.is(raw.mediaFrames(), 0, 'no media frames for the refused session');
    raw.client.destroy();
    await speaker.client.close();
  });
});

test.run();
