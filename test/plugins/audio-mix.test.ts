import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import { audioClient, type AudioApi, type MixFrame } from '../../plugins/audio-mix/client.js';
import type { AudioCodecName } from '../../plugins/audio-mix/protocol.js';
import { audioMix } from '../../plugins/audio-mix/server.js';
import { encodeMediaFrame, MediaCodec } from '../../core/media.js';
import { FrameType } from '../../core/protocol.js';
import { RawClient } from '../helpers/raw-client.js';
import { sleep, startTestServer, waitFor, type TestServer } from '../../core/testing.js';
import { concat, magnitude, paced, toneFrame } from './audio-signal.js';

interface Member {
  client: ConfabClient;
  audio: AudioApi;
  mixes: MixFrame[];
  levels: Array<Record<string, number>>;
  muted: Array<{ peer: string; muted: boolean }>;
}

async function join(port: number, name: string, codec: AudioCodecName, transport: 'tcp' | 'ws' = 'tcp'): Promise<Member> {
  const url = transport === 'tcp' ? `tcp://127.0.0.1:${port}` : `ws://127.0.0.1:${port}/ws`;
  const client = new ConfabClient({ url, name, room: 'lab' });
  const audio = client.use(audioClient({ codec, listen: true }));
  const member: Member = { client, audio, mixes: [], levels: [], muted: [] };
  audio.on('mix', (mix) => member.mixes.push(mix));
  audio.on('levels', (levels) => member.levels.push(levels));
  audio.on('muted', (event) => member.muted.push(event));
  const listening = new Promise((resolve) => audio.once('listening', resolve));
  await client.connect();
  await audio.ready;
  await listening;
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

/** The mix heard in the frames after `from` (a seq), as one signal. */
function heardAfter(member: Member, from: number, count: number): Int16Array {
  const frames = member.mixes.filter((mix) => mix.seq > from).slice(0, count);
  assert.is(frames.length, count, `${count} mix frames after seq ${from}`);
  return concat(frames.map((mix) => mix.pcm));
}

for (const codec of ['pcm', 'opus'] as const) {
  test(`mix-minus (${codec}): A hears B's 880 Hz and not its own 440 Hz; listener C hears both`, async () => {
    await withServer(async ({ port }) => {
      const a = await join(port, 'alice', codec);
      const b = await join(port, 'bob', codec, 'ws');
      const c = await join(port, 'carol', codec);
      assert.is(a.audio.sendCodec, codec);
      const startSeq = Math.max(0, ...c.mixes.map((mix) => mix.seq));
      await paced(75, (i) => {
        a.audio.publish(toneFrame(440, i));
        b.audio.publish(toneFrame(880, i));
      });
      // Skip the first 300 ms (jitter buffers priming, codec start-up) and look at the next 800 ms.
      const from = startSeq + 15;
      const heardByA = heardAfter(a, from, 40);
      const heardByB = heardAfter(b, from, 40);
      const heardByC = heardAfter(c, from, 40);
      assert.ok(magnitude(heardByA, 880) > 4000, `A hears 880 Hz (${magnitude(heardByA, 880)})`);
      assert.ok(magnitude(heardByA, 440) < 200, `A does not hear itself (${magnitude(heardByA, 440)})`);
      assert.ok(magnitude(heardByB, 440) > 4000, `B hears 440 Hz (${magnitude(heardByB, 440)})`);
      assert.ok(magnitude(heardByB, 880) < 200, `B does not hear itself (${magnitude(heardByB, 880)})`);
      assert.ok(magnitude(heardByC, 440) > 4000 && magnitude(heardByC, 880) > 4000, 'C hears both');
      assert.ok(c.mixes.every((mix) => mix.codec === codec && mix.pcm.length === 960));
      for (const m of [a, b, c]) await m.client.close();
    });
  });
}


/** A raw client that joins room `lab` and sends media frames byte by byte. */
async function rawSpeaker(port: number, name: string) {
  const { client, welcome } = await RawClient.join('tcp', port, { name, room: 'lab' });
  const audioId = welcome.channels.audio!;
  const controlId = welcome.channels['audio-control']!;
  return {
    client,
    id: welcome.session,
    sendPayload: (payload: Uint8Array) => client.send(audioId, payload),
    sendPcm: (seq: number, pcm: Int16Array) =>
      client.send(audioId, encodeMediaFrame({ codec: MediaCodec.PCM_S16LE, keyframe: true, seq, captureMs: Date.now(), sender: '', data: new Uint8Array(pcm.buffer) })),
    control: (message: object) => client.sendJson(controlId, message),
  };
}

function refused(t: TestServer, reason: string): number {
  return t.server.metrics.mediaRefused.get(reason) ?? 0;
}

test('jitter: reordered frames are absorbed, late and duplicate ones dropped, and the mix has no gap', async () => {
  await withServer(async (t) => {
    const c = await join(t.port, 'carol', 'pcm');
    const raw = await rawSpeaker(t.port, 'rawdy');
    const startSeq = Math.max(0, ...c.mixes.map((mix) => mix.seq));
    const delayed: Array<Promise<void>> = [];
    await paced(80, (slot) => {
      // Pairs swapped (1, 0, 3, 2, …); every 16th frame arrives 300 ms late; frame 40 is sent twice.
      const seq = slot % 2 === 0 ? slot + 1 : slot - 1;
      if (seq % 16 === 9) {
        delayed.push(sleep(300).then(() => raw.sendPcm(seq, toneFrame(440, seq))));
        return;
      }
      raw.sendPcm(seq, toneFrame(440, seq));
      if (seq === 40) raw.sendPcm(seq, toneFrame(440, seq));
    });
    await Promise.all(delayed);
    await waitFor(() => refused(t, 'audio-late') >= 5, 'the late frames to be dropped', 3000);
    assert.is(refused(t, 'audio-late'), 5, 'only the 300 ms late frames (9, 25, 41, 57, 73) are late: reordering is absorbed');
    assert.is(refused(t, 'audio-duplicate'), 1);
    // From 200 ms in to the end of the tone, every 20 ms of the mix carries the tone: a lost frame is concealed
    // (fading, so weaker: the buffer may stretch for a few ticks before it declares the frame lost, and the
    // fade reaches about 1/8 of the level after 60 ms), never a gap of silence (a level near 0).
    const frames = c.mixes.filter((mix) => mix.seq > startSeq + 10).slice(0, 60);
    const levels = frames.map((mix) => magnitude(mix.pcm, 440));
    assert.ok(levels.every((level) => level > 500), `no gap in the mix: ${levels.map(Math.round).join(' ')}`);
    raw.client.destroy();
    await c.client.close();
  });
});

test('malformed frames are dropped and counted; the sender stays, and the mix goes on', async () => {
  await withServer(async (t) => {
    const c = await join(t.port, 'carol', 'pcm');
    const raw = await rawSpeaker(t.port, 'mallory');
    const good = (seq: number) => encodeMediaFrame({ codec: MediaCodec.PCM_S16LE, keyframe: true, seq, captureMs: 0, sender: '', data: new Uint8Array(1920) });
    raw.sendPayload(new Uint8Array(7));                                         // short header
    const badCodec = good(1); badCodec[2] = 99; raw.sendPayload(badCodec);      // unknown codec
    const jpeg = good(2); jpeg[2] = MediaCodec.JPEG; raw.sendPayload(jpeg);     // a codec audio does not take
    raw.sendPayload(encodeMediaFrame({ codec: MediaCodec.PCM_S16LE, keyframe: true, seq: 3, captureMs: 0, sender: '', data: new Uint8Array(1000) }));
    raw.sendPayload(encodeMediaFrame({ codec: MediaCodec.PCM_S16LE, keyframe: true, seq: 4, captureMs: 0, sender: c.client.self!.id, data: new Uint8Array(1920) }));
    raw.sendPayload(encodeMediaFrame({ codec: MediaCodec.OPUS, keyframe: true, seq: 5, captureMs: 0, sender: '', data: new Uint8Array([0xff, 0xff, 0xff]) }));
    raw.client.send(0x7f, new Uint8Array(3));
    await waitFor(() => refused(t, 'audio-undecodable') === 1, 'the undecodable Opus frame', 3000);
    assert.is(refused(t, 'short-header'), 1);
    assert.is(refused(t, 'unknown-codec'), 1);
    assert.is(refused(t, 'codec-not-accepted'), 1);
    assert.is(refused(t, 'audio-bad-length'), 1);
    assert.is(refused(t, 'not-owner'), 1);
    assert.not.ok(raw.client.isClosed, 'a few malformed frames do not close the session');
    const seq = c.mixes.length;
    await waitFor(() => c.mixes.length > seq + 5, 'the mix to go on', 3000);
    raw.client.destroy();
    await c.client.close();
  });
});

test('mute: the room is told, a late joiner gets the state, and muted or ungranted frames are dropped', async () => {
  await withServer(async (t) => {
    const a = await join(t.port, 'alice', 'pcm');
    const c = await join(t.port, 'carol', 'pcm');
    const aliceId = a.client.self!.id;
    a.audio.setMuted(true);
    await waitFor(() => c.muted.length === 1 && a.muted.length === 1, 'the muted event', 3000);
    assert.equal(c.muted[0], { peer: aliceId, muted: true });
    assert.ok(c.audio.mutedPeers.has(aliceId));
    assert.is(a.audio.publish(toneFrame(440, 0)), false, 'a muted client does not send');
    const d = await join(t.port, 'dave', 'pcm');
    await waitFor(() => d.muted.length === 1, 'the state for the late joiner', 3000);
    assert.equal(d.muted[0], { peer: aliceId, muted: true });
    a.audio.setMuted(false);
    await waitFor(() => !c.audio.mutedPeers.has(aliceId), 'the unmute', 3000);

    // A raw client that says it is muted and sends anyway: dropped by the server.
    const raw = await rawSpeaker(t.port, 'rawdy');
    raw.control({ op: 'mute', muted: true });
    await waitFor(() => c.muted.some((event) => event.peer === raw.id), 'the raw client mute', 3000);
    await paced(5, (i) => raw.sendPcm(i, toneFrame(440, i)));
    await waitFor(() => refused(t, 'audio-muted') === 5, 'the muted frames dropped', 3000);

    // Moderation takes publish:audio away: alice's frames are dropped, carol hears nothing of her.
    t.server.sessions.get(aliceId)!.grants.delete('publish:audio');
    const from = Math.max(...c.mixes.map((mix) => mix.seq));
    await paced(30, (i) => a.audio.publish(toneFrame(440, i)));
    await waitFor(() => refused(t, 'no-grant') === 30, 'the ungranted frames dropped', 3000);
    await waitFor(() => c.mixes.filter((mix) => mix.seq > from).length >= 30, 'carol\'s mix', 3000);
    assert.ok(magnitude(heardAfter(c, from, 30), 440) < 50, 'carol hears nothing of alice');
    raw.client.destroy();
    for (const m of [a, c, d]) await m.client.close();
  });
});

test('a moderator\'s mute (removeGrant publish:audio) is announced to the room, and the muted client stops sending until it unmutes', async () => {
  await withServer(async (t) => {
    const a = await join(t.port, 'alice', 'pcm');
    const c = await join(t.port, 'carol', 'pcm');
    const aliceId = a.client.self!.id;
    const session = t.server.sessions.get(aliceId)!;
    session.removeGrant('publish:audio');
    await waitFor(() => c.audio.mutedPeers.has(aliceId) && a.muted.length === 1, 'the muted event', 3000);
    assert.equal(c.muted.at(-1), { peer: aliceId, muted: true });
    assert.is(a.audio.publish(toneFrame(440, 0)), false, 'alice\'s client took the server\'s word that she is muted');

    session.addGrant('publish:audio');
    a.audio.setMuted(false);
    await waitFor(() => !c.audio.mutedPeers.has(aliceId), 'the unmute once the grant is back', 3000);
    assert.ok(a.audio.publish(toneFrame(440, 1)), 'alice sends again');
    for (const m of [a, c]) await m.client.close();
  });
});

test('levels: a speaker\'s RMS in dBFS reaches the room, and silence once it stops', async () => {
  await withServer(async (t) => {
    const a = await join(t.port, 'alice', 'opus');
    const c = await join(t.port, 'carol', 'pcm');
    const aliceId = a.client.self!.id;
    await paced(40, (i) => a.audio.publish(toneFrame(440, i, 8000)));
    // A sine of peak 8000: RMS 5657, 20·log10(5657 / 32768) = −15.3 dBFS.
    const reported = c.levels.map((levels) => levels[aliceId]).filter((level) => level !== undefined);
    assert.ok(reported.some((level) => Math.abs(level! + 15) <= 1), `alice near −15 dBFS: ${reported.join(' ')}`);
    assert.ok(c.levels.length <= 8, `at most 5 reports per second, only when changed (${c.levels.length} in 0.8 s)`);
    await waitFor(() => c.levels.some((levels) => levels[aliceId] === -100), 'the silence report', 3000);
    assert.not.ok(c.audio.levels.has(aliceId), 'a silent speaker leaves the levels map');
    for (const m of [a, c]) await m.client.close();
  });
});

test('audio-control refuses a bad request and listening without the subscribe grant; /metrics shows tick lateness', async () => {
  await withServer(async (t) => {
    const raw = await rawSpeaker(t.port, 'rawdy');
    raw.control({ op: 'listen', codec: 'mp3' });
    const bad = await raw.client.next((f) => f.type === FrameType.ERROR);
    assert.is(bad.json.code, 'AUDIO_BAD_REQUEST');
    assert.is(bad.json.channel, 'audio-control');
    t.server.sessions.get(raw.id)!.grants.delete('subscribe');
    raw.control({ op: 'listen', codec: 'pcm' });
    const refusedListen = await raw.client.next((f) => f.type === FrameType.ERROR);
    assert.is(refusedListen.json.code, 'AUDIO_NOT_ALLOWED');
    const c = await join(t.port, 'carol', 'pcm');
    await sleep(1100);
    const metrics = await (await fetch(`http://127.0.0.1:${t.port}/metrics`)).text();
    const p99 = /^confab_audio_tick_lateness_p99_ms (\S+)$/m.exec(metrics);
    assert.ok(p99 && Number(p99[1]) >= 0, `the tick lateness gauge is exposed: ${metrics}`);
    assert.match(metrics, /confab_audio_mix_ms_p99 /);
    raw.client.destroy();
    await c.client.close();
  });
});

test.run();
