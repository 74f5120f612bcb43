/**
 * Congestion bench (issue 12, "How it is measured", item 2): one VP8 publisher (the injector bot: libvpx
 * through ffmpeg, three temporal layers at up to 500 kbit/s, keyframes on request) publishing the codec
 * bench's talking-head clip (bench/codec-clip.ts), three receivers on free links, and one receiver whose
 * link is capped below the stream's rate (a client that reads slowly: the server sees it only through its
 * link probe and its queue). It reports, in one run:
 *
 * - the capped receiver: frames per second, the share of each temporal layer, the longest gap between two
 *   frames after the first seconds (a freeze), and whether what it got decodes: its frames are decoded with
 *   ffmpeg and compared, frame by frame (framemd5), with the same frames decoded from the full stream;
 * - the free receivers: frames per second, layers, and the share of the publisher's frames they got (they
 *   must keep the full rate);
 * - keyframe request → keyframe arrival at a fifth receiver that asks, over repeated requests (p50/p99/max);
 *   a request restarts what that receiver gets of the stream, so it is not counted among the free ones.
 *
 *   node --import tsx bench/congestion.ts [--duration 30] [--cap-kbps 200] [--requests-every 3]
 *
 * Relay CPU per delivered frame against the bare forwarder is bench/relay.ts's job.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from '../bots/injector.js';
import { findFfmpeg } from '../bots/ffmpeg.js';
import { ivfFileHeader, ivfFrame } from '../bots/media/ivf.js';
import { ConfabClient } from '../core/client/node.js';
import { MediaCodec } from '../core/media.js';
import { startTestServer } from '../core/testing.js';
import { videoClient, type VideoApi } from '../plugins/video-relay/client.js';
import { videoRelay } from '../plugins/video-relay/server.js';
import { makeTalkingHeadClip } from './codec-clip.js';
import { joinCapped, type ReceivedFrame } from './congestion-receiver.js';
import { fixed, int, parseArgs, sleep, summarize, table } from './harness.js';

const args = parseArgs(process.argv.slice(2));
const durationS = Number(args.get('duration') ?? 30);
const capBps = Number(args.get('cap-kbps') ?? 200) * 1000;
const requestEveryMs = Number(args.get('requests-every') ?? 3) * 1000;
/** Frames of the first seconds are left out of rates and freezes: the receivers settle then. */
const WARMUP_MS = 5000;
const ROOM = 'congestion';

const dir = mkdtempSync(join(tmpdir(), 'confab-congestion-'));
const clip = makeTalkingHeadClip(dir, 10);
const fps = clip.fps;
const lab = await startTestServer({ plugins: [videoRelay()] });
const url = `tcp://127.0.0.1:${lab.port}`;

/** A receiver on a free link: its frames, and (one of them) the keyframe requests it times. */
async function freeReceiver(name: string): Promise<{ client: ConfabClient; frames: ReceivedFrame[]; api: VideoApi }> {
  const client = new ConfabClient({ url, name, room: ROOM, reconnect: false });
  const api = client.use(videoClient());
  const frames: ReceivedFrame[] = [];
  api.on('frame', (frame) => frames.push({ at: performance.now(), frame: { ...frame, data: frame.data.slice() } }));
  await client.connect();
  return { client, frames, api };
}

const free = await Promise.all(['free-1', 'free-2', 'free-3'].map(freeReceiver));
const asker = await freeReceiver('asker');
const capped = await joinCapped(lab.port, ROOM, 'capped', capBps);
const started = performance.now();
const publishing = inject({ server: url, room: ROOM, input: { file: clip.media }, loop: true, codec: 'vp8', audio: false, fps, durationS });

// The asker asks for a keyframe every few seconds and times its arrival.
const keyframeMs: number[] = [];
const timer = setInterval(() => {
  const sender = [...asker.client.peers.values()].find((peer) => peer.name === 'injector');
  if (!sender) return;
  const askedAt = performance.now();
  const seen = asker.frames.length;
  asker.api.requestKeyframe(sender.id, 'gap');
  const wait = setInterval(() => {
    const keyframe = asker.frames.slice(seen).find((received) => received.frame.keyframe);
    if (keyframe) keyframeMs.push(keyframe.at - askedAt);
    if (keyframe || performance.now() - askedAt > 3000) clearInterval(wait);
  }, 5);
}, requestEveryMs);

const result = await publishing;
clearInterval(timer);
await sleep(500);
const endedAt = performance.now();

/** The seq numbers the publisher sent after the warm-up, as the free receivers saw them. */
const steadySeqs = new Set(free.flatMap((receiver) => receiver.frames.filter((received) => received.at - started >= WARMUP_MS).map((received) => received.frame.seq)));

/** Rates, layers, completeness and freezes of one receiver's frames after the warm-up. */
function describe(frames: ReceivedFrame[]) {
  const steady = frames.filter((received) => received.at - started >= WARMUP_MS);
  const seconds = (endedAt - started - WARMUP_MS) / 1000;
  const layers = [0, 1, 2].map((layer) => steady.filter((received) => received.frame.layer === layer).length / Math.max(1, steady.length));
  let longestGap = 0;
  for (let i = 1; i < steady.length; i++) longestGap = Math.max(longestGap, steady[i]!.at - steady[i - 1]!.at);
  return { fps: steady.length / seconds, share: steady.length / Math.max(1, steadySeqs.size), layers, longestGap };
}

/** framemd5 of an IVF of `frames` (pts = seq), as seq → md5. */
function decodeMd5(ffmpeg: string, dir: string, name: string, frames: ReceivedFrame[]): Map<number, string> {
  const file = join(dir, `${name}.ivf`);
  const vp8 = frames.filter((received) => received.frame.codec === MediaCodec.VP8);
  writeFileSync(file, Buffer.concat([ivfFileHeader({ fourcc: 'VP80', width: 640, height: 480, timebaseDen: fps, timebaseNum: 1 }),
    ...vp8.map((received) => ivfFrame(received.frame.seq, received.frame.data))]));
  const out = execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-i', file, '-vsync', 'passthrough', '-f', 'framemd5', '-'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const md5 = new Map<number, string>();
  for (const line of out.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const fields = line.split(',').map((field) => field.trim());
    md5.set(Number(fields[2]), fields[5]!);
  }
  return md5;
}

const ffmpeg = (await findFfmpeg()).path;
const reference = decodeMd5(ffmpeg, dir, 'full', free[1]!.frames);
const cappedMd5 = decodeMd5(ffmpeg, dir, 'capped', capped.frames);
const mismatches = [...cappedMd5].filter(([seq, md5]) => reference.get(seq) !== md5).length;

const rows = [
  ...free.map((receiver, i) => ({ name: `free ${i + 1}`, ...describe(receiver.frames) })),
  { name: `capped ${capBps / 1000} kbit/s`, ...describe(capped.frames) },
];
const keyframes = summarize(keyframeMs);
const cappedRow = rows.at(-1)!;

console.log(`congestion: 1 VP8 publisher (L1T3, ${fps} fps, ${int(result.video.bytes * 8 / durationS / 1000)} kbit/s sent), ${durationS} s, `
  + `3 free receivers, 1 capped at ${capBps / 1000} kbit/s; first ${WARMUP_MS / 1000} s left out\n`);
const percent = (share: number) => `${Math.round(share * 100)}%`;
console.log(table(['receiver', 'fps', 'of sent', 'layer 0', 'layer 1', 'layer 2', 'longest gap ms'],
  rows.map((row) => [row.name, fixed(row.fps, 1), percent(row.share), percent(row.layers[0]!), percent(row.layers[1]!), percent(row.layers[2]!), int(row.longestGap)])));
console.log(`\ncapped receiver: ${cappedMd5.size} frames decoded, ${mismatches} differ from the same frames of the full stream`);
console.log(`keyframe request → keyframe at the receiver (${keyframes.count} requests): p50 ${fixed(keyframes.p50, 1)} ms, p99 ${fixed(keyframes.p99, 1)} ms, max ${fixed(keyframes.max, 1)} ms`);
const skipped = (await (await fetch(`http://127.0.0.1:${lab.port}/metrics`)).text()).split('\n').filter((line) => /^confab_video_(frames_skipped|layer_changes)/.test(line));
const keyframeBytes = free[1]!.frames.filter((received) => received.frame.keyframe).map((received) => received.frame.data.length);
console.log(`relay: ${skipped.join(', ') || 'nothing skipped'}; keyframes ${keyframeBytes.length}, ${int(keyframeBytes.reduce((a, b) => a + b, 0) / Math.max(1, keyframeBytes.length))} B on average`);
console.log('\nGoals:');
const goal = (text: string, met: boolean) => console.log(`  ${text}: ${met ? 'met' : 'not met'}`);
goal(`capped receiver decodes a moving picture (every frame it got decodes as in the full stream, ${fixed(cappedRow.fps, 1)} fps)`, mismatches === 0 && cappedRow.fps >= fps / 4 * 0.8);
goal(`capped receiver has no freeze over 1 s (longest gap ${int(cappedRow.longestGap)} ms)`, cappedRow.longestGap <= 1000);
goal(`capped receiver at base layer (${Math.round(cappedRow.layers[0]! * 100)}% of its frames)`, cappedRow.layers[0]! >= 0.5);
goal(`free receivers keep the full rate (${rows.slice(0, 3).map((row) => percent(row.share)).join(', ')} of the frames sent)`, rows.slice(0, 3).every((row) => row.share >= 0.99));
goal(`keyframe request → keyframe p99 ≤ 200 ms (${fixed(keyframes.p99, 1)} ms)`, keyframes.p99 <= 200);

capped.close();
for (const receiver of [...free, asker]) await receiver.client.close();
await lab.close();
rmSync(dir, { recursive: true, force: true });
