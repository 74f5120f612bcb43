/**
 * Where a download is written, decided before a byte is written: into a directory under the file's own name
 * (with ` (1)`, ` (2)`… rather than overwrite), or to a path that is new, or an existing regular file only
 * when asked to replace it. Never a device or a pipe (renaming over /dev/full would replace the device).
 */
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { cliError } from './errors.js';

/** Options of `downloadTarget`. */
export interface TargetOptions {
  /** Replace an existing regular file at `out`. */
  force?: boolean;
  /** What to call the option in messages (`--out`, or `PATH` in the terminal client). */
  option?: string;
}

/**
 * The absolute path to write the file called `name` to, for `out` (a directory or a file path; `~` is the
 * home directory). Throws CLI_OUT_EXISTS, CLI_OUT_NOT_A_FILE or CLI_OUT_NO_DIRECTORY.
 *
 * @example
 *   await downloadTarget('.', 'notes.txt')             // '/home/me/notes (1).txt' when notes.txt exists
 *   await downloadTarget('copy.txt', 'notes.txt')      // '/home/me/copy.txt', if there is none yet
 */
export async function downloadTarget(out: string, name: string, options: TargetOptions = {}): Promise<string> {
  const option = options.option ?? '--out';
  const path = resolve(expandHome(out));
  const found = await stat(path).catch(() => undefined);
  if (found?.isDirectory()) return freeName(path, name);
  if (found && !found.isFile()) throw cliError('CLI_OUT_NOT_A_FILE', `${path} is not a regular file (a device or a pipe); give ${option} a file or a directory`);
  if (found && !options.force) {
    const hint = option === '--out' ? 'add --force to replace it, or give another --out' : `give another ${option}`;
    throw cliError('CLI_OUT_EXISTS', `${path} exists; ${hint}`);
  }
  if (out.endsWith('/')) throw cliError('CLI_OUT_NO_DIRECTORY', `the directory ${path} does not exist`);
  const parent = await stat(dirname(path)).catch(() => undefined);
  if (!parent?.isDirectory()) throw cliError('CLI_OUT_NO_DIRECTORY', `the directory ${dirname(path)} does not exist; create it or give ${option} another path`);
  return path;
}

/** `~` and `~/…` as the home directory (what a shell would have done). */
export function expandHome(path: string): string {
  if (path === '~') return homedir();
  return path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
}

/** `name` in `directory`, or `stem (1).ext`, `stem (2).ext`… when taken. */
async function freeName(directory: string, name: string): Promise<string> {
  const extension = extname(name);
  const stem = name.slice(0, name.length - extension.length);
  for (let n = 0; ; n++) {
    const candidate = join(directory, n === 0 ? name : `${stem} (${n})${extension}`);
    if (!(await stat(candidate).then(() => true, () => false))) return candidate;
  }
}
