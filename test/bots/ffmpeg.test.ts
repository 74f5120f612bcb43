import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ffmpeg from 'fluent-ffmpeg';
import { isConfabError } from '../../core/errors.js';
import { configureFluentFfmpeg, findFfmpeg, findFfprobe } from '../../bots/ffmpeg.js';

const ENV_KEYS = ['FFMPEG_PATH', 'FFPROBE_PATH', 'PATH'] as const;
const saved: Partial<Record<(typeof ENV_KEYS)[number], string>> = {};

/** The machine's own binaries, found before any test touches the environment. */
const real = await findFfmpeg();
const realProbe = await findFfprobe({ ffmpeg: real });
const realDir = path.dirname(real.path);
/** Whether the optional ffmpeg-static package is installed; if it is, it would win over PATH. */
const hasFfmpegStatic = await import('ffmpeg-static' as string).then(
  () => true,
  () => false,
);

let tmp = '';

/** Writes an executable shell script named name in dir that runs target, logging each run to a marker file. */
function wrapper(dir: string, name: string, target: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  const marker = path.join(dir, `${name}.runs`);
  fs.writeFileSync(file, `#!/bin/sh\necho "$*" >> '${marker}'\nexec '${target}' "$@"\n`, { mode: 0o755 });
  return file;
}

function runs(file: string): string {
  const marker = `${file}.runs`;
  return fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : '';
}

async function notFound(fn: () => Promise<unknown>): Promise<Error & { code: string }> {
  try {
    await fn();
  } catch (err) {
    assert.ok(isConfabError(err), `expected a ConfabError, got ${String(err)}`);
    return err as Error & { code: string };
  }
  assert.unreachable('expected the lookup to throw');
  throw new Error('unreachable');
}

test.before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'confab-ffmpeg-test-'));
});

test.after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

test.before.each(() => {
  for (const key of ENV_KEYS) saved[key] = process.env[key];
});

test.after.each(() => {
  for (const key of ENV_KEYS) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});

test('findFfmpeg({ path }) returns the explicit path over FFMPEG_PATH and PATH', async () => {
  process.env.FFMPEG_PATH = wrapper(path.join(tmp, 'option'), 'ffmpeg', real.path);
  const found = await findFfmpeg({ path: real.path });
  assert.equal({ path: found.path, source: found.source }, { path: real.path, source: 'option' });
});

test('findFfmpeg() prefers FFMPEG_PATH over PATH', async () => {
  const mine = wrapper(path.join(tmp, 'env'), 'ffmpeg', real.path);
  process.env.FFMPEG_PATH = mine;
  process.env.PATH = realDir;
  const found = await findFfmpeg();
  assert.equal({ path: found.path, source: found.source }, { path: mine, source: 'FFMPEG_PATH' });
  assert.equal(found.skipped, []);
});

test('findFfmpeg() searches the PATH directories in order', async () => {
  const dir = path.join(tmp, 'path-first');
  const mine = wrapper(dir, 'ffmpeg', real.path);
  delete process.env.FFMPEG_PATH;
  process.env.PATH = [dir, realDir].join(path.delimiter);
  const found = await findFfmpeg({ ffmpegStatic: false });
  assert.equal({ path: found.path, source: found.source }, { path: mine, source: 'PATH' });
});

test('findFfmpeg() skips a non-executable FFMPEG_PATH and records why', async () => {
  const file = path.join(tmp, 'not-executable', 'ffmpeg');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
  process.env.FFMPEG_PATH = file;
  process.env.PATH = realDir;
  const found = await findFfmpeg();
  assert.is.not(found.source, 'FFMPEG_PATH');
  assert.is(found.source, hasFfmpegStatic ? 'ffmpeg-static' : 'PATH');
  assert.equal(found.skipped[0], { source: 'FFMPEG_PATH', path: file, reason: 'is not executable' });
});

test('findFfmpeg() skips an FFMPEG_PATH that does not exist and records why', async () => {
  const file = path.join(tmp, 'nowhere', 'ffmpeg');
  process.env.FFMPEG_PATH = file;
  process.env.PATH = realDir;
  const found = await findFfmpeg();
  assert.is.not(found.source, 'FFMPEG_PATH');
  assert.equal(found.skipped[0], { source: 'FFMPEG_PATH', path: file, reason: 'does not exist' });
});

test('findFfmpeg() with nothing anywhere throws FFMPEG_NOT_FOUND naming all four places', async () => {
  delete process.env.FFMPEG_PATH;
  process.env.PATH = '';
  // Where ffmpeg-static is installed it would be found: pass over it so the error path still runs.
  const err = await notFound(() => findFfmpeg(hasFfmpegStatic ? { ffmpegStatic: false } : {}));
  assert.is(err.code, 'FFMPEG_NOT_FOUND');
  assert.match(err.message, /path option of findFfmpeg\(\): not given/);
  assert.match(err.message, /FFMPEG_PATH environment variable: not set/);
  assert.match(err.message, hasFfmpegStatic ? /ffmpeg-static package: passed over/ : /ffmpeg-static package: the package is not installed/);
  assert.match(err.message, /ffmpeg on PATH: PATH holds no absolute directory/);
  assert.match(err.message, /apt-get install ffmpeg/);
  assert.match(err.message, /brew install ffmpeg/);
});

test('findFfmpeg() reports what each place held when all of them are wrong', async () => {
  const dir = path.join(tmp, 'all-wrong');
  fs.mkdirSync(path.join(dir, 'bin', 'ffmpeg'), { recursive: true }); // a directory named ffmpeg on PATH
  process.env.FFMPEG_PATH = path.join(dir, 'missing');
  process.env.PATH = path.join(dir, 'bin');
  const err = await notFound(() => findFfmpeg({ path: path.join(dir, 'also-missing'), ffmpegStatic: false }));
  assert.is(err.code, 'FFMPEG_NOT_FOUND');
  assert.ok(err.message.includes(`${path.join(dir, 'also-missing')} does not exist`), err.message);
  assert.ok(err.message.includes(`${path.join(dir, 'missing')} does not exist`), err.message);
  assert.ok(err.message.includes(`no executable ffmpeg in ${path.join(dir, 'bin')}`), err.message);
});

test('the ffmpeg found runs: -version exits 0 and prints "ffmpeg version"', () => {
  const result = spawnSync(real.path, ['-hide_banner', '-version'], { encoding: 'utf8' });
  assert.is(result.status, 0, result.stderr);
  assert.match(result.stdout, /^ffmpeg version /);
});

test('findFfprobe() finds the ffprobe beside the ffmpeg found', async () => {
  const dir = path.join(tmp, 'beside');
  process.env.FFMPEG_PATH = wrapper(dir, 'ffmpeg', real.path);
  const probe = wrapper(dir, 'ffprobe', realProbe.path);
  delete process.env.FFPROBE_PATH;
  process.env.PATH = realDir;
  const found = await findFfprobe();
  assert.equal({ path: found.path, source: found.source }, { path: probe, source: 'beside-ffmpeg' });
});

test('findFfprobe() prefers FFPROBE_PATH over the ffprobe beside ffmpeg', async () => {
  const mine = wrapper(path.join(tmp, 'probe-env'), 'ffprobe', realProbe.path);
  process.env.FFPROBE_PATH = mine;
  const found = await findFfprobe({ ffmpeg: real });
  assert.equal({ path: found.path, source: found.source }, { path: mine, source: 'FFPROBE_PATH' });
});

test('findFfprobe() with nothing anywhere throws FFPROBE_NOT_FOUND naming each place', async () => {
  const lonely = wrapper(path.join(tmp, 'lonely'), 'ffmpeg', real.path);
  delete process.env.FFPROBE_PATH;
  process.env.PATH = '';
  const err = await notFound(() => findFfprobe({ ffmpeg: { path: lonely, source: 'option' } }));
  assert.is(err.code, 'FFPROBE_NOT_FOUND');
  assert.match(err.message, /FFPROBE_PATH environment variable: not set/);
  assert.ok(err.message.includes(`${path.join(path.dirname(lonely), 'ffprobe')} does not exist`), err.message);
  assert.match(err.message, /ffprobe on PATH/);
});

test('the ffprobe found runs: -version exits 0 and prints "ffprobe version"', () => {
  const result = spawnSync(realProbe.path, ['-hide_banner', '-version'], { encoding: 'utf8' });
  assert.is(result.status, 0, result.stderr);
  assert.match(result.stdout, /^ffprobe version /);
});

test('configureFluentFfmpeg() makes fluent-ffmpeg run the binaries found', async () => {
  const dir = path.join(tmp, 'fluent');
  const mineFfmpeg = wrapper(dir, 'ffmpeg', real.path);
  const mineProbe = wrapper(dir, 'ffprobe', realProbe.path);
  const set = configureFluentFfmpeg({ path: mineFfmpeg, source: 'option' });
  assert.equal(set, { ffmpeg: mineFfmpeg, ffprobe: mineProbe });

  const wav = path.join(dir, 'tone.wav');
  await new Promise<void>((resolve, reject) => {
    ffmpeg()
      .input('sine=frequency=440:duration=0.2')
      .inputFormat('lavfi')
      .audioCodec('pcm_s16le')
      .on('error', reject)
      .on('end', () => resolve())
      .save(wav);
  });
  const metadata = await new Promise<ffmpeg.FfprobeData>((resolve, reject) =>
    ffmpeg.ffprobe(wav, (err, data) => (err ? reject(err) : resolve(data))),
  );
  assert.is(metadata.streams[0]?.codec_name, 'pcm_s16le');
  assert.match(runs(mineFfmpeg), /sine=frequency=440/);
  assert.match(runs(mineProbe), /tone\.wav/);
});

test.run();
