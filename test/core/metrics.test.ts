/**
 * `/metrics` on prom-client, read with a real Prometheus parser (test/helpers/prometheus.ts): the text is
 * valid, every error code and drop reason is there from 0, the process metrics are there, the histograms
 * move under load (join, media relay delay, mixer tick lateness, chat fan-out, file throughput), and labels
 * stay bounded (no session ids; rooms only with `metricsPerRoom`). Plus the plugin API of core/metrics.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import { ERRORS } from '../../core/errors.js';
import { encodeMediaFrame, MediaCodec } from '../../core/media.js';
import { Metrics } from '../../core/metrics.js';
import { startTestServer, waitFor, type TestServer } from '../../core/testing.js';
import { audioClient } from '../../plugins/audio-mix/client.js';
import { audioMix } from '../../plugins/audio-mix/server.js';
import { chatClient } from '../../plugins/chat/client.js';
import { chat } from '../../plugins/chat/server.js';
import { filesClient } from '../../plugins/files/client-node.js';
import { files } from '../../plugins/files/server.js';
import { videoRelay } from '../../plugins/video-relay/server.js';
import { allSamples, parsePrometheus, sampleValue, type Family } from '../helpers/prometheus.js';
import { RawClient } from '../helpers/raw-client.js';
import { l1t3, vp8Delta, vp8Keyframe } from '../helpers/vp8.js';

async function scrape(lab: TestServer): Promise<Family[]> {
  const response = await fetch(`http://127.0.0.1:${lab.port}/metrics`);
  assert.is(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await response.text());
}

/** A histogram's observation count (`_count`), 0 when it has none yet. */
function count(families: Family[], name: string, labels: Record<string, string> = {}): number {
  return sampleValue(families, `${name}_count`, labels) ?? 0;
}

/** Frame `index` of a layered VP8 stream starting with a keyframe. */
function vp8(index: number): Uint8Array {
  const keyframe = index === 0;
  return encodeMediaFrame({
    codec: MediaCodec.VP8, keyframe, ...l1t3(index), seq: index, captureMs: Date.now(), sender: '',
    data: keyframe ? vp8Keyframe(index % 256) : vp8Delta(index % 256),
  });
}

test('/metrics parses with the Prometheus parser: every error code and drop reason from 0, process metrics, build info', async () => {
  const lab = await startTestServer({ plugins: [chat(), files()] });
  try {
    const families = await scrape(lab);
    for (const code of [...Object.keys(ERRORS), 'CHAT_TEXT_EMPTY', 'FILES_DISK_FULL']) {
      assert.is(sampleValue(families, 'confab_errors_total', { code }), 0, `confab_errors_total{code="${code}"}`);
    }
    for (const reason of ['replaced', 'behind-keyframe', 'detached']) {
      assert.is(sampleValue(families, 'confab_media_dropped_total', { reason }), 0, reason);
    }
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds']) {
      assert.ok(sampleValue(families, name) !== undefined, `${name} is exported`);
    }
    assert.is(sampleValue(families, 'confab_build_info', { node: process.version }), 1);
    assert.is(sampleValue(families, 'confab_sessions'), 0);
    assert.is(families.find((family) => family.name === 'confab_join_seconds')?.type, 'histogram');
  } finally {
    await lab.close();
  }
});

test('under load the histograms move: join, media relay delay, mixer tick lateness, chat fan-out, file throughput', async () => {
  const lab = await startTestServer({ plugins: [chat(), videoRelay(), audioMix({ opus: false }), files()] });
  const work = mkdtempSync(join(tmpdir(), 'confab-metrics-test-'));
  const clients: ConfabClient[] = [];
  const raws: RawClient[] = [];
  try {
    const before = await scrape(lab);
    const alice = new ConfabClient({ url: lab.url, name: 'alice', room: 'lab' });
    const bob = new ConfabClient({ url: lab.url, name: 'bob', room: 'lab' });
    clients.push(alice, bob);
    const aliceChat = alice.use(chatClient());
    const aliceFiles = alice.use(filesClient());
    const bobFiles = bob.use(filesClient());
    bob.use(audioClient({ codec: 'pcm', listen: true }));
    await Promise.all([alice.connect(), bob.connect()]);

    for (let i = 0; i < 5; i++) await aliceChat.send(`message ${i}`);
    const stored = await aliceFiles.upload(new Blob([randomBytes(256 * 1024)]), { name: 'load.bin' }).done;
    await bobFiles.download(stored.id, join(work, 'load.bin')).done;

    const publisher = await RawClient.join('tcp', lab.port, { name: 'camera', room: 'lab' });
    const viewer = await RawClient.join('tcp', lab.port, { name: 'viewer', room: 'lab' });
    raws.push(publisher.client, viewer.client);
    const video = publisher.welcome.channels.video!;
    for (let i = 0; i < 32; i++) publisher.client.send(video, vp8(i));
    await waitFor(() => viewer.client.frames.filter((frame) => frame.type === video).length === 32, 'the 32 frames to reach the viewer');

    const after = await scrape(lab);
    const moved = (name: string, labels: Record<string, string> = {}) =>
      assert.ok(count(after, name, labels) > count(before, name, labels), `${name}${JSON.stringify(labels)} moved: ${count(before, name, labels)} → ${count(after, name, labels)}`);
    moved('confab_join_seconds', { kind: 'join' });
    moved('confab_media_relay_delay_seconds');
    moved('confab_audio_tick_lateness_seconds');
    moved('confab_chat_fanout_seconds');
    moved('confab_files_throughput_bytes_per_second', { direction: 'upload' });
    moved('confab_files_throughput_bytes_per_second', { direction: 'download' });
    assert.is(count(after, 'confab_join_seconds', { kind: 'join' }), 4, 'one observation per join');
    assert.is(count(after, 'confab_chat_fanout_seconds'), 5, 'one per chat message');
    assert.is(sampleValue(after, 'confab_sessions'), 4);
    assert.is(sampleValue(after, 'confab_rooms'), 1);
    assert.ok(sampleValue(after, 'confab_frames_in_total', { channel: 'video' })! >= 32);
  } finally {
    for (const raw of raws) raw.destroy();
    await Promise.all(clients.map((client) => client.close()));
    await lab.close();
    rmSync(work, { recursive: true, force: true });
  }
});

test('labels stay bounded: no session id in any label; per-room gauges only with metricsPerRoom', async () => {
  for (const metricsPerRoom of [false, true]) {
    const lab = await startTestServer({ plugins: [chat()], server: { metricsPerRoom } });
    try {
      const clients = await Promise.all(['a', 'b', 'c'].map((name, i) => lab.connect(name, { room: `room-${i % 2}` })));
      const ids = new Set(clients.map((client) => lab.session(client).id));
      const families = await scrape(lab);
      const labelValues = allSamples(families).flatMap((sample) => Object.values(sample.labels));
      assert.ok(!labelValues.some((value) => ids.has(value)), 'no session id is a label value');
      const perRoom = allSamples(families).filter((sample) => sample.name === 'confab_room_sessions');
      if (metricsPerRoom) {
        assert.equal(perRoom.map((sample) => [sample.labels.room, sample.value]).sort(), [['room-0', 2], ['room-1', 1]]);
      } else {
        assert.is(perRoom.length, 0, 'no per-room series by default');
        assert.ok(!labelValues.includes('room-0'), 'no room name in any label');
      }
    } finally {
      await lab.close();
    }
  }
});

test('Metrics: counter(), histogram() and gauges are declared once per name and rendered', async () => {
  const metrics = new Metrics();
  const switches = metrics.counter('confab_test_switches_total', 'Switches.', 'direction');
  switches('down');
  metrics.counter('confab_test_switches_total', 'Switches.', 'direction')('down', 2);
  assert.is(metrics.counterValues('confab_test_switches_total')?.get('down'), 3, 'a second declaration counts into the same counter');
  const observe = metrics.histogram('confab_test_seconds', 'Test durations.', [0.1, 1], 'kind');
  observe(0.05, 'fast');
  observe(5, 'slow');
  metrics.gauges.set('confab_test_gauge', 7);
  metrics.add(metrics.errors, 'SOME_CODE', 2);
  const families = parsePrometheus(await metrics.render());
  assert.is(sampleValue(families, 'confab_test_switches_total', { direction: 'down' }), 3);
  assert.is(sampleValue(families, 'confab_test_seconds_bucket', { kind: 'fast', le: '0.1' }), 1);
  assert.is(sampleValue(families, 'confab_test_seconds_bucket', { kind: 'slow', le: '1' }), 0);
  assert.is(sampleValue(families, 'confab_test_seconds_count', { kind: 'slow' }), 1);
  assert.is(sampleValue(families, 'confab_test_gauge'), 7);
  assert.is(sampleValue(families, 'confab_errors_total', { code: 'SOME_CODE' }), 2);
});

test.run();
