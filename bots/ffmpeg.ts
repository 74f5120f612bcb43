/**
 * Finding the ffmpeg and ffprobe binaries that the bots drive through fluent-ffmpeg.
 *
 * ffmpeg is looked for in this order, and the first executable file wins:
 *   1. an explicit path: `findFfmpeg({ path })`
 *   2. the `FFMPEG_PATH` environment variable
 *   3. the binary of the `ffmpeg-static` package (an optional dependency; its install downloads the binary
 *      from GitHub, so it is often absent)
 *   4. `ffmpeg` in a directory of `PATH`
 * ffprobe the same way: an explicit path, `FFPROBE_PATH`, an ffprobe beside the ffmpeg found, `PATH`.
 *
 * A place that names a file that does not exist or is not executable is skipped, and why is recorded; when
 * nothing is found the error says what each place held and how to install ffmpeg.
 */
import fs from 'node:fs';
import path from 'node:path';
import ffmpeg from 'fluent-ffmpeg';
import { ConfabError } from '../core/errors.js';

/** Where an ffmpeg binary came from, in lookup order. */
export type FfmpegSource = 'option' | 'FFMPEG_PATH' | 'ffmpeg-static' | 'PATH';

/**
 * An ffmpeg binary that exists and is executable, and where it was found.
 *
 * @example
 *   const location: FfmpegLocation = { path: '/usr/bin/ffmpeg', source: 'PATH' };
 */
export interface FfmpegLocation {
  /** Absolute path of the binary. */
  path: string;
  /** Which place of the lookup order held it. */
  source: FfmpegSource;
}

/** Where an ffprobe binary came from, in lookup order. */
export type FfprobeSource = 'option' | 'FFPROBE_PATH' | 'beside-ffmpeg' | 'PATH';

/**
 * An ffprobe binary that exists and is executable, and where it was found.
 *
 * @example
 *   const probe: FfprobeLocation = { path: '/usr/bin/ffprobe', source: 'beside-ffmpeg' };
 */
export interface FfprobeLocation {
  /** Absolute path of the binary. */
  path: string;
  /** Which place of the lookup order held it. */
  source: FfprobeSource;
}

/**
 * A place that named a binary the lookup could not use.
 *
 * @example
 *   { source: 'FFMPEG_PATH', path: '/opt/ffmpeg/ffmpeg', reason: 'is not executable' }
 */
export interface SkippedBinary<Source extends string = string> {
  /** The place that named it. */
  source: Source;
  /** The path it named. */
  path: string;
  /** Why it was not used: "does not exist", "is not executable", "is a directory", ... */
  reason: string;
}

/**
 * What `findFfmpeg` returns: the location, plus the candidates skipped on the way (useful in a log line when
 * a configured FFMPEG_PATH was passed over).
 *
 * @example
 *   const found = await findFfmpeg();
 *   for (const s of found.skipped) log.warn(`ignored ${s.source} ${s.path}: ${s.reason}`);
 */
export interface FfmpegLookup extends FfmpegLocation {
  /** Candidates named before the winner that were not usable, in lookup order. */
  skipped: SkippedBinary<FfmpegSource>[];
}

/**
 * What `findFfprobe` returns: the location, plus the candidates skipped on the way.
 *
 * @example
 *   const { path, skipped } = await findFfprobe();
 */
export interface FfprobeLookup extends FfprobeLocation {
  /** Candidates named before the winner that were not usable, in lookup order. */
  skipped: SkippedBinary<FfprobeSource>[];
}

/**
 * Options of `findFfmpeg`.
 *
 * @example
 *   await findFfmpeg({ path: '/opt/ffmpeg-7/bin/ffmpeg' });
 */
export interface FindFfmpegOptions {
  /** An explicit path to the binary; checked first. */
  path?: string;
  /** Where FFMPEG_PATH and PATH are read; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** False to pass over the ffmpeg-static package (to prefer the system's build and its codecs). Default true. */
  ffmpegStatic?: boolean;
}

/**
 * Options of `findFfprobe`.
 *
 * @example
 *   await findFfprobe({ ffmpeg: await findFfmpeg() });
 */
export interface FindFfprobeOptions {
  /** An explicit path to the binary; checked first. */
  path?: string;
  /** Where FFPROBE_PATH and PATH are read; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** The ffmpeg to look beside; default the one `findFfmpeg({ env })` finds, if any. */
  ffmpeg?: FfmpegLocation;
}

const INSTALL_HINT =
  'Install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg), ' +
  'or point FFMPEG_PATH at the binary.';

/** One place of the lookup order: what it held, for the error message. */
interface Step {
  label: string;
  held: string;
}

/** Why file cannot be run, or null when it is an executable file. */
function unusable(file: string): string | null {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : `cannot be read (${code ?? String(err)})`;
  }
  if (stat.isDirectory()) return 'is a directory';
  if (!stat.isFile()) return 'is not a regular file';
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    return 'is not executable';
  }
  return null;
}

/** File names a command may have on this platform. */
function commandNames(name: string): string[] {
  return process.platform === 'win32' ? [`${name}.exe`, name] : [name];
}

/**
 * Checks a path named by a place (option or environment variable). A bare command name is not searched for:
 * that is what the PATH step does.
 */
function checkNamed<S extends string>(
  source: S,
  value: string | undefined,
  skipped: SkippedBinary<S>[],
): { found: string } | { held: string } {
  if (value === undefined || value === '') return { held: 'not set' };
  const file = path.resolve(value);
  const reason = unusable(file);
  if (reason === null) return { found: file };
  const hint = reason === 'does not exist' && !/[\\/]/.test(value) ? ' (give a path to the binary, not a command name)' : '';
  skipped.push({ source, path: file, reason: reason + hint });
  return { held: `${file} ${reason}${hint}` };
}

/** Searches the directories of PATH for an executable named name. */
function searchPath<S extends string>(
  source: S,
  name: string,
  envPath: string | undefined,
  skipped: SkippedBinary<S>[],
): { found: string } | { held: string } {
  // Relative entries (and POSIX's empty entry, meaning the current directory) are not searched: which
  // binary they give depends on where the bot happens to be started.
  const dirs = (envPath ?? '').split(path.delimiter).filter((d) => d !== '' && path.isAbsolute(d));
  if (dirs.length === 0) return { held: 'PATH holds no absolute directory' };
  for (const dir of dirs) {
    for (const file of commandNames(name).map((n) => path.join(dir, n))) {
      const reason = unusable(file);
      if (reason === null) return { found: file };
      if (reason !== 'does not exist') skipped.push({ source, path: file, reason });
    }
  }
  return { held: `no executable ${name} in ${dirs.join(path.delimiter)}` };
}

/** The binary ffmpeg-static names, or what went wrong. */
async function ffmpegStaticBinary(): Promise<{ file: string } | { held: string }> {
  // A variable specifier, because the package is optional and usually absent: the type checker must not
  // insist on it, and a bundler must not try to inline it.
  const specifier = 'ffmpeg-static';
  let exported: unknown;
  try {
    const mod = (await import(specifier)) as { default?: unknown };
    exported = mod.default ?? mod;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      return { held: 'the package is not installed (an optional dependency; its install downloads the binary from GitHub)' };
    }
    return { held: `the package failed to load: ${(err as Error).message}` };
  }
  if (typeof exported !== 'string' || exported === '') {
    return { held: `the package has no binary for ${process.platform}-${process.arch}` };
  }
  return { file: exported };
}

/**
 * Finds ffmpeg: an explicit path, then FFMPEG_PATH, then the ffmpeg-static package, then PATH. The first
 * executable file wins; places that named an unusable file are listed in `skipped`.
 *
 * @throws ConfabError `FFMPEG_NOT_FOUND`, whose message says what each of the four places held and how to
 *   install ffmpeg.
 * @example
 *   const found = await findFfmpeg();                       // { path: '/usr/bin/ffmpeg', source: 'PATH', skipped: [] }
 *   const mine = await findFfmpeg({ path: './vendor/ffmpeg' }); // source: 'option'
 */
export async function findFfmpeg(options: FindFfmpegOptions = {}): Promise<FfmpegLookup> {
  const env = options.env ?? process.env;
  const skipped: SkippedBinary<FfmpegSource>[] = [];
  const steps: Step[] = [];

  const fromOption = checkNamed('option', options.path, skipped);
  if ('found' in fromOption) return { path: fromOption.found, source: 'option', skipped };
  steps.push({ label: 'the path option of findFfmpeg()', held: fromOption.held === 'not set' ? 'not given' : fromOption.held });

  const fromEnv = checkNamed('FFMPEG_PATH', env.FFMPEG_PATH, skipped);
  if ('found' in fromEnv) return { path: fromEnv.found, source: 'FFMPEG_PATH', skipped };
  steps.push({ label: 'the FFMPEG_PATH environment variable', held: fromEnv.held });

  if (options.ffmpegStatic === false) {
    steps.push({ label: 'the ffmpeg-static package', held: 'passed over (ffmpegStatic: false)' });
  } else {
    const pkg = await ffmpegStaticBinary();
    if ('file' in pkg) {
      const fromPkg = checkNamed('ffmpeg-static', pkg.file, skipped);
      if ('found' in fromPkg) return { path: fromPkg.found, source: 'ffmpeg-static', skipped };
      steps.push({ label: 'the ffmpeg-static package', held: `its binary ${fromPkg.held}` });
    } else {
      steps.push({ label: 'the ffmpeg-static package', held: pkg.held });
    }
  }

  const fromPath = searchPath('PATH', 'ffmpeg', env.PATH, skipped);
  if ('found' in fromPath) return { path: fromPath.found, source: 'PATH', skipped };
  steps.push({ label: 'ffmpeg on PATH', held: fromPath.held });

  throw new ConfabError('FFMPEG_NOT_FOUND', notFoundMessage('ffmpeg', steps), { fatal: true });
}

/** The ffprobe lookup once the ffmpeg to look beside is settled; synchronous. */
function locateFfprobe(
  options: Omit<FindFfprobeOptions, 'ffmpeg'>,
  beside: FfmpegLocation | string,
): FfprobeLookup {
  const env = options.env ?? process.env;
  const skipped: SkippedBinary<FfprobeSource>[] = [];
  const steps: Step[] = [];

  const fromOption = checkNamed('option', options.path, skipped);
  if ('found' in fromOption) return { path: fromOption.found, source: 'option', skipped };
  steps.push({ label: 'the path option of findFfprobe()', held: fromOption.held === 'not set' ? 'not given' : fromOption.held });

  const fromEnv = checkNamed('FFPROBE_PATH', env.FFPROBE_PATH, skipped);
  if ('found' in fromEnv) return { path: fromEnv.found, source: 'FFPROBE_PATH', skipped };
  steps.push({ label: 'the FFPROBE_PATH environment variable', held: fromEnv.held });

  if (typeof beside === 'string') {
    steps.push({ label: 'ffprobe beside ffmpeg', held: beside });
  } else {
    const ext = path.extname(beside.path);
    const file = path.join(path.dirname(beside.path), `ffprobe${ext}`);
    const reason = unusable(file);
    if (reason === null) return { path: file, source: 'beside-ffmpeg', skipped };
    if (reason !== 'does not exist') skipped.push({ source: 'beside-ffmpeg', path: file, reason });
    steps.push({ label: `ffprobe beside ffmpeg (${beside.source})`, held: `${file} ${reason}` });
  }

  const fromPath = searchPath('PATH', 'ffprobe', env.PATH, skipped);
  if ('found' in fromPath) return { path: fromPath.found, source: 'PATH', skipped };
  steps.push({ label: 'ffprobe on PATH', held: fromPath.held });

  throw new ConfabError('FFPROBE_NOT_FOUND', notFoundMessage('ffprobe', steps), { fatal: true });
}

/**
 * Finds ffprobe: an explicit path, then FFPROBE_PATH, then an ffprobe in the directory of the ffmpeg found
 * (ffmpeg packages ship both), then PATH.
 *
 * @throws ConfabError `FFPROBE_NOT_FOUND`, naming each place and what it held.
 * @example
 *   const probe = await findFfprobe();                                 // { path: '/usr/bin/ffprobe', source: 'FFPROBE_PATH' | 'beside-ffmpeg' | 'PATH', ... }
 *   const same = await findFfprobe({ ffmpeg: await findFfmpeg({ path: '/opt/ff/ffmpeg' }) }); // /opt/ff/ffprobe
 */
export async function findFfprobe(options: FindFfprobeOptions = {}): Promise<FfprobeLookup> {
  let beside: FfmpegLocation | string;
  if (options.ffmpeg) {
    beside = options.ffmpeg;
  } else {
    try {
      beside = await findFfmpeg(options.env ? { env: options.env } : {});
    } catch {
      beside = 'no ffmpeg was found to look beside';
    }
  }
  return locateFfprobe(options, beside);
}

function notFoundMessage(binary: string, steps: Step[]): string {
  const lines = steps.map((s, i) => `  ${i + 1}. ${s.label}: ${s.held}`);
  const hint = binary === 'ffmpeg' ? INSTALL_HINT : `${INSTALL_HINT.replace(/FFMPEG_PATH/, 'FFPROBE_PATH')} ffprobe comes with ffmpeg.`;
  return `no ${binary} binary was found. Looked in, in order:\n${lines.join('\n')}\n${hint}`;
}

/**
 * Points fluent-ffmpeg (process-wide) at the binaries found, so that no command falls back to its own
 * PATH search. ffprobe is the one given or, when none is, one found from FFPROBE_PATH, beside the ffmpeg, or
 * on PATH; when there is none, fluent-ffmpeg's ffprobe is left as it was.
 *
 * @returns the paths that were set.
 * @example
 *   const set = configureFluentFfmpeg(await findFfmpeg());
 *   // { ffmpeg: '/usr/bin/ffmpeg', ffprobe: '/usr/bin/ffprobe' }
 *   ffmpeg('in.mp4').output('out.webm').run();
 */
export function configureFluentFfmpeg(
  location: FfmpegLocation,
  ffprobe?: FfprobeLocation,
): { ffmpeg: string; ffprobe: string | null } {
  ffmpeg.setFfmpegPath(location.path);
  let probe: string | null = ffprobe?.path ?? null;
  if (probe === null) {
    try {
      probe = locateFfprobe({}, location).path;
    } catch {
      probe = null;
    }
  }
  if (probe !== null) ffmpeg.setFfprobePath(probe);
  return { ffmpeg: location.path, ffprobe: probe };
}
