/**
 * The codec bench (issue 12, "How it is measured", 1): what a participant with camera and microphone costs
 * on the wire and how good the picture is that the others get, for VP8/Opus against JPEG/PCM, published by
 * the injector bot and by Chromium, in one run.
 *
 *   node --import tsx bench/codec.ts [--seconds 10] [--no-browser] [--json] [--keep]
 *
 * 1. Makes the talking-head clip with ffmpeg's filters (bench/codec-clip.ts): 640×480, 15 fps.
 * 2. Starts a server in this process that counts each publisher's media bytes as they arrive
 *    (bench/codec-rig.ts), with a receiving bot in each publisher's room.
 * 3. Publishes the clip, each publisher alone in its room: the injector with VP8 + Opus and with JPEG + PCM;
 *    Chromium with its fake camera and microphone reading the clip, with WebCodecs and without (fallback).
 * 4. Reports per publisher the bits per second on the wire (video and audio apart), the SSIM of what the
 *    receiving bot decodes against the clip (frames paired by sequence number: bench/codec-quality.ts),
 *    and how many participants with cameras on 100 Mbit/s of server egress carries all-seeing-all
 *    (the largest N with N·(N−1)·rate ≤ 100 Mbit/s, rate = video + audio).
 * 5. Measures keyframe request → keyframe arrival for the injector (requests from the receiving bot every
 *    600 ms, the server's throttle being 300 ms).
 * 6. Prints the goals: camera + microphone ≤ 600 kbit/s at SSIM ≥ 0.97, and N ≥ 14.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from '../bots/injector.js';
import { MediaCodec } from '../core/media.js';
import { publishFromBrowser } from './codec-browser.js';
import { makeTalkingHeadClip, readY4mFrames, type TalkingHeadClip } from './codec-clip.js';
import { measureQuality, type QualityResult } from './codec-quality.js';
import { bitsPerSecond, startCodecRig, type CodecRig } from './codec-rig.js';
import { fixed, parseArgs, summarize, table, type Summary } from './harness.js';

/** One publisher's numbers. */
interface CodecRow {
  publisher: string;
  videoCodec: string;
  audioCodec: string;
  videoKbps: number;
  audioKbps: number;
  totalKbps: number;
  /** Video keyframes sent. */
  keyframes: number;
  quality: QualityResult | undefined;
  /** Participants all-seeing-all within 100 Mbit/s of egress at this rate. */
  participantsAt100Mbps: number;
  note?: string;
}

/** A goal and whether it was met. */
interface Goal {
  goal: string;
  met: boolean | undefined;
  detail: string;
}

const EGRESS_BPS = 100e6;
const CODEC_NAMES: Record<number, string> = { [MediaCodec.VP8]: 'VP8', [MediaCodec.JPEG]: 'JPEG', [MediaCodec.OPUS]: 'Opus', [MediaCodec.PCM_S16LE]: 'PCM', [MediaCodec.H264]: 'H.264' };

const args = parseArgs(process.argv.slice(2));
const seconds = Number(args.get('seconds') ?? 10);
const log = (line: string) => process.stderr.write(`${line}\n`);
/** The receiving bot of each publisher's room, by publisher name. */
const receivers = new Map<string, Awaited<ReturnType<CodecRig['receive']>>>();

/** The largest N with N·(N−1)·rate ≤ the egress. */
function participantsWithin(egressBps: number, rateBps: number): number {
  if (rateBps <= 0) return 0;
  return Math.floor((1 + Math.sqrt(1 + (4 * egressBps) / rateBps)) / 2);
}

/** The row of one publisher, from what the rig counted and what the receiver got. */
function rowOf(rig: CodecRig, name: string, publisher: string, clip: TalkingHeadClip, clipFrames: Buffer[], dir: string, search: boolean, note?: string): CodecRow {
  const counted = rig.wire.get(name);
  if (!counted) throw new Error(`${publisher}: nothing arrived at the server`);
  const frameMs = 1000 / clip.fps;
  const videoBps = bitsPerSecond(counted.video, frameMs);
  const audioBps = bitsPerSecond(counted.audio, 20);
  const received = receivers.get(name)?.frames.get(name) ?? [];
  let quality: QualityResult | undefined;
  try {
    quality = measureQuality(received, clipFrames, clip.width, clip.height, dir, name, search);
  } catch (error) {
    note = `${note ? `${note}; ` : ''}no SSIM: ${(error as Error).message}`;
  }
  const names = (codecs: Set<number>) => [...codecs].map((codec) => CODEC_NAMES[codec] ?? String(codec)).join('+') || '-';
  return {
    publisher,
    videoCodec: names(counted.video.codecs),
    audioCodec: names(counted.audio.codecs),
    videoKbps: videoBps / 1000,
    audioKbps: audioBps / 1000,
    totalKbps: (videoBps + audioBps) / 1000,
    keyframes: counted.video.keyframes,
    quality,
    participantsAt100Mbps: participantsWithin(EGRESS_BPS, videoBps + audioBps),
    ...(note ? { note } : {}),
  };
}

/** Publishes the clip once with the injector. */
async function injectorRow(rig: CodecRig, clip: TalkingHeadClip, clipFrames: Buffer[], dir: string, codec: 'vp8' | 'jpeg'): Promise<CodecRow> {
  const name = `injector-${codec}`;
  receivers.set(name, await rig.receive(name));
  log(`injector, ${codec === 'vp8' ? 'VP8 + Opus' : 'JPEG + PCM'}: publishing the ${seconds} s clip`);
  const result = await inject({
    server: rig.lab.url, room: name, name, input: { file: clip.media }, codec, audioCodec: codec === 'vp8' ? 'opus' : 'pcm',
    width: clip.width, height: clip.height, fps: clip.fps,
  });
  await new Promise((done) => setTimeout(done, 500));
  const dropped = result.dropped.videoFrames > 0 ? `${result.dropped.videoFrames} frames dropped: pairing by seq is off after them` : undefined;
  return rowOf(rig, name, `injector ${codec === 'vp8' ? '(VP8/Opus)' : '(JPEG/PCM)'}`, clip, clipFrames, dir, false, dropped);
}

/** Publishes the clip from Chromium. */
async function browserRow(rig: CodecRig, clip: TalkingHeadClip, clipFrames: Buffer[], dir: string, withoutWebCodecs: boolean): Promise<CodecRow> {
  const name = withoutWebCodecs ? 'chromium-fallback' : 'chromium';
  receivers.set(name, await rig.receive(name));
  log(`Chromium${withoutWebCodecs ? ' without WebCodecs' : ''}: publishing its fake camera and microphone (the clip) for ${seconds} s`);
  const { support } = await publishFromBrowser({ port: rig.lab.port, room: name, name, y4m: clip.y4m, wav: clip.wav, seconds, withoutWebCodecs, log });
  await new Promise((done) => setTimeout(done, 500));
  return rowOf(rig, name, withoutWebCodecs ? 'Chromium, no WebCodecs' : 'Chromium', clip, clipFrames, dir, true, `client found: ${support || 'no codecs'}`);
}

/** Keyframe requests from a receiving bot to the injector: request → keyframe arrival, ms. */
async function keyframeLatency(rig: CodecRig, clip: TalkingHeadClip): Promise<{ arrival: Summary; encoder: Summary }> {
  const room = 'keyframes';
  const receiver = await rig.receive(room);
  log('keyframe requests: the receiving bot asks the injector every 600 ms');
  const arrivals: number[] = [];
  let asked: number | undefined;
  receiver.video.on('frame', (frame) => {
    if (asked !== undefined && frame.keyframe) {
      arrivals.push(performance.now() - asked);
      asked = undefined;
    }
  });
  const timer = setInterval(() => {
    const injector = [...receiver.client.client.peers.values()].find((peer) => peer.name === 'injector');
    if (!injector || asked !== undefined) return;
    asked = performance.now();
    receiver.video.requestKeyframe(injector.id, 'decode-error');
  }, 600);
  const result = await inject({ server: rig.lab.url, room, input: { file: clip.media }, audio: false, width: clip.width, height: clip.height, fps: clip.fps });
  clearInterval(timer);
  return { arrival: summarize(arrivals), encoder: summarize(result.video.keyframeLatencyMs) };
}

function goals(rows: CodecRow[]): Goal[] {
  const vp8 = rows.filter((row) => row.videoCodec === 'VP8' && row.audioCodec === 'Opus');
  const out: Goal[] = [];
  for (const row of vp8) {
    const ssim = row.quality?.ssim;
    out.push({
      goal: `camera + microphone ≤ 600 kbit/s at SSIM ≥ 0.97 (${row.publisher})`,
      met: ssim === undefined ? undefined : row.totalKbps <= 600 && ssim >= 0.97,
      detail: `${fixed(row.totalKbps, 0)} kbit/s at SSIM ${ssim === undefined ? 'n/a' : fixed(ssim, 4)}`,
    });
    out.push({
      goal: `participants with cameras on in 100 Mbit/s of egress, all seeing all, ≥ 14 (${row.publisher})`,
      met: row.participantsAt100Mbps >= 14,
      detail: `${row.participantsAt100Mbps} at ${fixed(row.totalKbps, 0)} kbit/s each (JPEG/PCM: ${rows.filter((r) => r.videoCodec === 'JPEG').map((r) => `${r.participantsAt100Mbps} for ${r.publisher}`).join(', ') || 'not run'})`,
    });
  }
  return out;
}

function format(rows: CodecRow[], keyframes: { arrival: Summary; encoder: Summary }, goalList: Goal[], clip: TalkingHeadClip): string {
  const lines = [
    `Codec bench: a ${seconds} s talking-head clip, ${clip.width}×${clip.height} at ${clip.fps} fps, each publisher alone in its room with a receiving bot`,
    '',
    table(
      ['publisher', 'video', 'video kbit/s', 'audio', 'audio kbit/s', 'total kbit/s', 'SSIM', 'SSIM Y', 'frames', 'keyframes', 'N at 100 Mbit/s'],
      rows.map((row) => [
        row.publisher, row.videoCodec, fixed(row.videoKbps, 0), row.audioCodec, fixed(row.audioKbps, 1), fixed(row.totalKbps, 0),
        row.quality ? fixed(row.quality.ssim, 4) : 'n/a', row.quality ? fixed(row.quality.ssimY, 4) : 'n/a', row.quality?.frames ?? 0,
        row.keyframes, row.participantsAt100Mbps,
      ]),
    ),
    '',
    'Rates are the media frames as the server received them (header and the 5-byte frame header included; TCP/IP',
    'and WebSocket overhead not), over each publisher\'s first to last frame. SSIM: ffmpeg\'s ssim filter, All = Y, U, V.',
    ...rows.filter((row) => row.note || row.quality).map((row) => `  ${row.publisher}: pairing ${row.quality?.alignment ?? 'n/a'}${row.note ? `; ${row.note}` : ''}`),
    '',
    `Keyframe request → keyframe at the receiving bot (injector, VP8): p50 ${fixed(keyframes.arrival.p50, 0)} ms, p99 ${fixed(keyframes.arrival.p99, 0)} ms, ` +
      `max ${fixed(keyframes.arrival.max, 0)} ms over ${keyframes.arrival.count} requests; inside the injector (request → keyframe out of the encoder): ` +
      `p50 ${fixed(keyframes.encoder.p50, 0)} ms, max ${fixed(keyframes.encoder.max, 0)} ms`,
    '',
    'Goals:',
    ...goalList.map((goal) => `  ${(goal.met === undefined ? 'n/a' : goal.met ? 'MET' : 'NOT MET').padEnd(7)}  ${goal.goal}: ${goal.detail}`),
  ];
  return `${lines.join('\n')}\n`;
}

const dir = mkdtempSync(join(tmpdir(), 'confab-codec-bench-'));
let rig: CodecRig | undefined;
try {
  log(`making the clip in ${dir}`);
  const clip = makeTalkingHeadClip(dir, seconds);
  const clipFrames = readY4mFrames(clip.y4m);
  rig = await startCodecRig();
  const rows = [
    await injectorRow(rig, clip, clipFrames, dir, 'vp8'),
    await injectorRow(rig, clip, clipFrames, dir, 'jpeg'),
  ];
  if (!args.has('no-browser')) {
    rows.push(await browserRow(rig, clip, clipFrames, dir, false));
    rows.push(await browserRow(rig, clip, clipFrames, dir, true));
  }
  const keyframes = await keyframeLatency(rig, clip);
  const goalList = goals(rows);
  if (args.has('json')) console.log(JSON.stringify({ seconds, clip: { width: clip.width, height: clip.height, fps: clip.fps }, rows, keyframes, goals: goalList }, null, 2));
  else process.stdout.write(format(rows, keyframes, goalList, clip));
} catch (error) {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exitCode = 1;
} finally {
  await rig?.close();
  if (args.has('keep')) log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
