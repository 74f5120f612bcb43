import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findFfmpeg, findFfprobe } from '../../bots/ffmpeg.js';
import { FRAME_SAMPLES, SAMPLE_RATE, SineTone, toneShare } from '../../bots/media/pcm.js';
import { TrackWriter } from '../../bots/recorder/track-writer.js';
import { MediaCodec, type MediaFrame } from '../../core/media.js';
import { loadOpus } from '../../plugins/audio-mix/opus-codec.js';

const ffmpegPath = (await findFfmpeg()).path;
const ffprobePath = (await findFfprobe()).path;
const opus = await loadOpus(() => {});
let dir = '';

test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'confab-tracks-'));
});
test.after.each(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A speaker's audio frame as the audio client half's `track` event gives it. */
function audioFrame(codec: MediaCodec, seq: number, captureMs: number, data: Uint8Array): MediaFrame {
  return { codec, keyframe: true, layer: 0, switchUp: true, baseIndex: 0, seq, captureMs, sender: 'speaker', data };
}

/** The file's audio, decoded to 48 kHz mono s16. */
function decode(file: string): Int16Array {
  const result = spawnSync(ffmpegPath, ['-v', 'error', '-i', file, '-map', '0:a', '-f', 's16le', '-ac', '1', '-ar', String(SAMPLE_RATE), 'pipe:1'], { maxBuffer: 64 * 1024 * 1024 });
  assert.is(result.status, 0, String(result.stderr));
  const bytes = result.stdout as Buffer;
  return new Int16Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 2));
}

function durationOf(file: string): number {
  const result = spawnSync(ffprobePath, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  assert.is(result.status, 0, result.stderr);
  return Number(result.stdout.trim());
}

/** Which 20 ms windows of `samples` hold the tone (true) or not. */
function toneWindows(samples: Int16Array, frequency: number): boolean[] {
  const windows: boolean[] = [];
  for (let offset = 0; offset + FRAME_SAMPLES <= samples.length; offset += FRAME_SAMPLES) {
    windows.push(toneShare(samples.subarray(offset, offset + FRAME_SAMPLES), frequency) > 0.5);
  }
  return windows;
}

/**
 * One second of tone (50 frames, capture times in bursts of five, as a pipe delivers them), a one-second pause
 * in which the speaker sent nothing while its sequence numbers stayed consecutive (a mute), then another second.
 */
function speak(write: (seq: number, captureMs: number, pcm: Int16Array) => void): void {
  const tone = new SineTone(440);
  const start = 1_700_000_000_000;
  for (let i = 0; i < 100; i++) {
    const captureMs = start + Math.floor(i / 5) * 100 + (i >= 50 ? 1000 : 0);
    write(i, captureMs, tone.next());
  }
}

for (const codec of ['opus', 'pcm'] as const) {
  test(`TrackWriter (${codec}): frames whose capture times come in bursts stay back to back, and a pause keeps its length`, async () => {
    const writer = new TrackWriter(join(dir, 'speaker'), 'capture');
    const encoder = opus?.createEncoder();
    speak((seq, captureMs, pcm) => {
      const data = codec === 'opus' ? encoder!.encode(pcm) : new Uint8Array(pcm.buffer);
      assert.ok(writer.write(audioFrame(codec === 'opus' ? MediaCodec.OPUS : MediaCodec.PCM_S16LE, seq, captureMs, data)));
    });
    assert.not.ok(writer.write(audioFrame(MediaCodec.PCM_S16LE, 10, 0, new Uint8Array(1920))), 'a frame behind the last one is dropped');
    const written = await writer.finish();
    assert.ok(written, 'a file was written');
    assert.is(written!.file, codec === 'opus' ? 'speaker.webm' : 'speaker.mkv');
    assert.equal(written!.streams, [{ type: 'audio', codec: codec === 'opus' ? 'opus' : 'pcm_s16le', offsetMs: 0, frames: 100 }]);
    assert.equal(readdirSync(dir), [written!.file], 'the spool is gone');
    const path = join(dir, written!.file);
    const duration = durationOf(path);
    assert.ok(duration > 2.8 && duration < 3.2, `3 s: 1 s, a 1 s pause, 1 s (${duration} s)`);
    const windows = toneWindows(decode(path), 440);
    const count = (from: number, to: number) => windows.slice(from, to).filter(Boolean).length;
    assert.ok(count(2, 48) >= 44, `the first second holds the tone (${count(2, 48)} of 46)`);
    assert.ok(count(53, 97) <= 2, `the pause is silence (${count(53, 97)} of 44 windows with the tone)`);
    assert.ok(count(103, 148) >= 43, `the last second holds the tone (${count(103, 148)} of 45)`);
  });
}

test('TrackWriter: a VP8 stream starts at its first keyframe; a writer that got nothing writes no file', async () => {
  const empty = new TrackWriter(join(dir, 'nobody'), 'capture');
  assert.not.ok(empty.write({ ...audioFrame(MediaCodec.VP8, 0, 0, new Uint8Array([0x01, 0, 0])), keyframe: false }), 'a delta before any keyframe');
  assert.is(await empty.finish(), undefined);
  assert.equal(readdirSync(dir), [], 'nothing left behind');
});

test.run();
