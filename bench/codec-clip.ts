/**
 * The codec bench's talking-head clip, made with ffmpeg's filters here (no video is committed): a still,
 * detailed background (a frame of the Mandelbrot set), a face-sized region that sways (smooth gradients in
 * an ellipse) with a busy patch in it that changes every frame (a cellular automaton, where a mouth would
 * be), and temporal sensor noise over everything; 640×480 at 15 fps. The sound is voice-like: harmonics of
 * 140 Hz whose loudness rises and falls four times a second (syllables), over faint noise.
 *
 * Written as `clip.y4m` (the reference, and Chromium's fake camera), `clip.wav` (Chromium's fake microphone)
 * and `clip.mkv` (both, lossless FFV1 and PCM, for the injector).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The clip's files and shape. */
export interface TalkingHeadClip {
  y4m: string;
  wav: string;
  /** Video and audio in one file (FFV1 + PCM in Matroska). */
  media: string;
  width: number;
  height: number;
  fps: number;
  /** Frames in the clip. */
  frames: number;
}

const WIDTH = 640;
const HEIGHT = 480;
const FPS = 15;

/** The filter graph of the picture. */
function videoGraph(): string {
  const background = `mandelbrot=size=${WIDTH}x${HEIGHT}:rate=${FPS}:start_scale=0.1:end_scale=0.1:start_x=-0.743643887037151:start_y=0.13182590420533:maxiter=200,`
    + `trim=end_frame=1,loop=loop=-1:size=1,setpts=N/${FPS}/TB,format=yuv420p[bg]`;
  const head = `gradients=size=200x260:rate=${FPS}:speed=0.02:c0=0xc08060:c1=0x905030:c2=0xe0b090:nb_colors=3,format=yuva420p,`
    + "geq=lum='lum(X,Y)':cb='cb(X,Y)':cr='cr(X,Y)':a='if(lt(pow((X-100)/100,2)+pow((Y-130)/130,2),1),255,0)'[head]";
  const mouth = `cellauto=size=120x40:rate=${FPS}:rule=110,format=yuva420p,colorchannelmixer=aa=0.6[mouth]`;
  const sway = (x: number, y: number) => `x='${x}+25*sin(2*PI*t/4)':y='${y}+10*sin(2*PI*t/3)'`;
  return [
    background,
    head,
    mouth,
    `[bg][head]overlay=${sway(220, 120)}:format=yuv420[face]`,
    `[face][mouth]overlay=${sway(260, 300)}:format=yuv420,noise=alls=2:allf=t,format=yuv420p[v]`,
  ].join(';');
}

/** The filter graph of the sound. */
function audioGraph(): string {
  const voice = '0.25*(sin(2*PI*140*t)+0.5*sin(2*PI*280*t)+0.3*sin(2*PI*420*t)+0.15*sin(2*PI*700*t))*(0.55+0.45*sin(2*PI*4*t))';
  return `aevalsrc='${voice}':s=48000:c=mono[voice];anoisesrc=color=pink:amplitude=0.01:r=48000[hiss];[voice][hiss]amix=inputs=2:normalize=0[a]`;
}

/**
 * Makes the clip in `dir` with ffmpeg (a few seconds of CPU).
 *
 * @example
 *   const clip = makeTalkingHeadClip(tmp, 10);   // clip.y4m, clip.wav, clip.mkv
 */
export function makeTalkingHeadClip(dir: string, seconds: number): TalkingHeadClip {
  const y4m = join(dir, 'clip.y4m');
  const wav = join(dir, 'clip.wav');
  const media = join(dir, 'clip.mkv');
  const run = (args: string[]) => execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  run(['-filter_complex', videoGraph(), '-map', '[v]', '-t', String(seconds), '-f', 'yuv4mpegpipe', '-pix_fmt', 'yuv420p', y4m]);
  run(['-filter_complex', audioGraph(), '-map', '[a]', '-t', String(seconds), '-ac', '1', '-ar', '48000', '-c:a', 'pcm_s16le', wav]);
  run(['-i', y4m, '-i', wav, '-map', '0:v', '-map', '1:a', '-c:v', 'ffv1', '-c:a', 'pcm_s16le', media]);
  return { y4m, wav, media, width: WIDTH, height: HEIGHT, fps: FPS, frames: Math.round(seconds * FPS) };
}

/**
 * The frames of a y4m file (4:2:0), each width × height × 1.5 bytes.
 *
 * @throws Error when the file is not 4:2:0 y4m.
 */
export function readY4mFrames(path: string): Buffer[] {
  const bytes = readFileSync(path);
  const headerEnd = bytes.indexOf(0x0a);
  const header = bytes.toString('latin1', 0, headerEnd);
  const width = Number(/ W(\d+)/.exec(header)?.[1]);
  const height = Number(/ H(\d+)/.exec(header)?.[1]);
  if (!header.startsWith('YUV4MPEG2') || !(width > 0 && height > 0) || (/ C(\S+)/.exec(header)?.[1] ?? '420').slice(0, 3) !== '420') {
    throw new Error(`${path} is not a 4:2:0 y4m file (${header})`);
  }
  const frameBytes = (width * height * 3) / 2;
  const frames: Buffer[] = [];
  for (let offset = headerEnd + 1; offset < bytes.length;) {
    const lineEnd = bytes.indexOf(0x0a, offset);
    if (bytes.toString('latin1', offset, offset + 5) !== 'FRAME' || lineEnd < 0) break;
    frames.push(bytes.subarray(lineEnd + 1, lineEnd + 1 + frameBytes));
    offset = lineEnd + 1 + frameBytes;
  }
  return frames;
}
