import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runLoad, type LoadProgress } from '../../bots/load/load.js';
import { formatLoadReport } from '../../bots/load/report.js';
import { LayerStats } from '../../bots/load/layers.js';
import { SequenceTracker } from '../../bots/load/stats.js';
import { ConfabClient } from '../../core/client/node.js';
import { isConfabError } from '../../core/errors.js';
import { audioMix } from '../../plugins/audio-mix/server.js';
import { chat } from '../../plugins/chat/server.js';
import { videoClient } from '../../plugins/video-relay/client.js';
import { videoRelay } from '../../plugins/video-relay/server.js';
import { startTestServer } from '../../core/testing.js';

test('SequenceTracker counts gaps as lost, and duplicates and late frames apart', () => {
  const tracker = new SequenceTracker();
  for (const seq of [0, 1, 3, 3, 2, 6]) tracker.add(seq);
  assert.is(tracker.received, 5);
  assert.is(tracker.lost, 2, '4 and 5 are missing');
  assert.is(tracker.duplicates, 1);
  assert.is(tracker.reordered, 1);
});

test('LayerStats counts delivery per layer and base-layer frames lost from the base-layer index, and from the sequence numbers past 16', () => {
  const stats = new LayerStats();
  for (let i = 0; i < 8; i++) stats.sent([0, 2, 1, 2][i % 4]!, 1);
  // Receiver r gets base frames with index 0, 1, 3 (2 lost), then one 64 frames later whose index says 4 (16 more lost).
  const arrivals = [{ seq: 0, baseIndex: 0 }, { seq: 4, baseIndex: 1 }, { seq: 12, baseIndex: 3 }, { seq: 76, baseIndex: 4 }];
  for (const a of arrivals) stats.arrived('r', { sender: 's', layer: 0, ...a });
  stats.arrived('r', { sender: 's', seq: 77, layer: 2, baseIndex: 4 });
  stats.arrived('r', { sender: 's', seq: 12, layer: 0, baseIndex: 3 }); // late duplicate: no loss
  const report = stats.report({ undecodable: 3, keyframeRequests: 1 });
  assert.equal(report.layers.map((l) => [l.layer, l.sent, l.expected, l.received]), [[0, 2, 2, 5], [1, 2, 2, 0], [2, 4, 4, 1]]);
  assert.is(report.baseLost, 1 + 16, 'one between index 1 and 3; seq 12 → 76 spans at least 16 base frames, so index 3 → 4 means 17: 16 lost');
  assert.is(report.undecodable, 3);
});

test('runLoad() with 20 bots reports what they really measured: every VP8 frame sent reached the other 19, per layer, with its latency', async () => {
  const server = await startTestServer({ plugins: [chat(), videoRelay(), audioMix({ opus: false })] });
  const url = `tcp://127.0.0.1:${server.port}`;
  // An independent observer in the room counts the video frames every load bot sent.
  const observer = new ConfabClient({ url, name: 'observer', room: 'load' });
  const observed = new Map<string, number>();
  observer.use(videoClient()).on('frame', (frame) => observed.set(frame.sender, (observed.get(frame.sender) ?? 0) + 1));
  await observer.connect();
  const phases = new Set<string>();
  try {
    const report = await runLoad({
      server: url, room: 'load', bots: 20, durationS: 3, rampS: 0.5, video: true, fps: 5, audio: true, chatRate: 10,
      onProgress: (progress: LoadProgress) => phases.add(progress.phase),
    });
    assert.is(report.joined, 20);
    assert.equal(report.errors, {});
    assert.ok(phases.has('joining') && phases.has('running'), [...phases].join(','));
    assert.ok(report.joinMs.samples === 20 && report.joinMs.p50 > 0);

    const video = report.video!;
    assert.is(video.codec, 'vp8');
    const layered = video.layered!;
    assert.is(layered.layers.reduce((sum, l) => sum + l.sent, 0), video.sent);
    for (const layer of layered.layers) {
      assert.ok(layer.sent > 0, `layer ${layer.layer} was sent`);
      assert.is(layer.expected, layer.sent * 19);
      assert.ok(layer.received <= layer.expected && layer.received >= layer.expected * 0.9, `layer ${layer.layer}: ${layer.received} of ${layer.expected}`);
    }
    assert.ok(layered.layers[0]!.sent >= video.sent / 4 - 20, 'a quarter of the frames are base layer');
    assert.is(video.lost, layered.baseLost);
    // The observer (a 21st member) is a receiver the load bots did not count: it saw what they sent.
    const observedTotal = [...observed.values()].reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(observedTotal - video.sent) <= video.sent * 0.05, `observer saw ${observedTotal}, bots say they sent ${video.sent}`);
    assert.ok(video.sent >= 20 * 5 * 3 * 0.8, `sent ${video.sent}`);
    assert.is(video.expected, video.sent * 19);
    assert.ok(video.received + video.lost <= video.expected, 'no receiver counts more than was sent to it');
    assert.ok(video.received >= video.expected * 0.9, `received ${video.received} of ${video.expected}`);
    assert.is(video.latencyMs.samples, video.received + video.duplicates);
    assert.ok(video.latencyMs.p50 >= 0 && video.latencyMs.p50 <= video.latencyMs.p95 && video.latencyMs.p95 <= video.latencyMs.p99 && video.latencyMs.p99 <= video.latencyMs.max);
    assert.ok(video.framesPerSecond > 0 && video.bytesPerSecond > video.framesPerSecond);

    const chatReport = report.chat!;
    assert.ok(chatReport.sent >= 20, `chat sent ${chatReport.sent}`);
    assert.is(chatReport.received, chatReport.expected, 'chat is reliable: every message reached every other bot');
    assert.is(chatReport.lost, 0);

    const audio = report.audio!;
    assert.ok(audio.sent >= 20 * 50 * 3 * 0.8, `audio sent ${audio.sent}`);
    // Each bot hears the mix every 20 ms.
    assert.ok(audio.received >= 20 * 50 * report.durationS * 0.7, `mix frames received ${audio.received}`);
    assert.is(audio.expected, audio.received + audio.lost);

    const text = formatLoadReport(report);
    assert.match(text, /20\/20 bots joined/);
    assert.match(text, /video vp8\s+latency \(ms\) p50/);
    assert.match(text, /layer 0: sent \d+  delivered \d+ of \d+/);
    assert.is(report.audio!.codec, 'opus');
    assert.match(text, /errors: none/);
  } finally {
    await observer.close();
    await server.close();
  }
});

test('runLoad() refuses a bot count or duration that makes no sense, with a coded error saying the range', async () => {
  for (const options of [{ bots: 0, durationS: 1 }, { bots: 2.5, durationS: 1 }, { bots: 1001, durationS: 1 }, { bots: 1_000_000_000, durationS: 1 }, { bots: 2, durationS: 0 }]) {
    try {
      await runLoad({ server: '127.0.0.1:1', room: 'x', ...options });
      assert.unreachable('should throw');
    } catch (error) {
      assert.ok(isConfabError(error) && error.code === 'BOT_OPTION_INVALID', String(error));
      if (options.durationS > 0) assert.match((error as Error).message, /from 1 to 1000/);
    }
  }
});

test('runLoad() stops at once with BOT_CONNECT_FAILED when its first bot cannot join, instead of running the duration', async () => {
  const server = await startTestServer({ plugins: [chat()] });
  const port = server.port;
  await server.close();
  const started = Date.now();
  try {
    await runLoad({ server: `127.0.0.1:${port}`, room: 'x', bots: 3, durationS: 600, rampS: 0 });
    assert.unreachable('should throw');
  } catch (error) {
    assert.ok(isConfabError(error) && error.code === 'BOT_CONNECT_FAILED', String(error));
    assert.match((error as Error).message, new RegExp(`127\\.0\\.0\\.1:${port}`));
  }
  assert.ok(Date.now() - started < 600_000, 'it did not wait out the duration');
});

test.run();
