/**
 * What the CLI tests drive: the real `confab` command as a child process, `confab serve` as a server that
 * can be killed and restarted on its port, and a terminal in tmux (`new-session -x -y`, `send-keys`,
 * `capture-pane -p`) on a tmux server of its own. Every process is ended by the PID it was started with.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../core/testing.js';

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The `confab` command. */
export const CLI = join(ROOT, 'cli/confab.mjs');

/** A finished run of a one-shot command. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `confab …` to its end (stdin closed). */
export function confab(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((done) => child.once('close', (code) => done({ code, stdout, stderr })));
}

/**
 * `confab serve` in a child process: started, killed (any signal), started again on the same port. It runs
 * in `cwd` (without a plugins.config.ts there: the built-in plugins).
 */
export class ServeProcess {
  readonly #args: string[];
  readonly #cwd: string;
  #child: ChildProcess | undefined;
  #output = '';
  port = 0;

  constructor(args: string[], cwd: string) {
    this.#args = args;
    this.#cwd = cwd;
  }

  /** Starts it (on `port` when it ran before) and resolves once it prints its listening line. */
  async start(): Promise<void> {
    const args = this.port === 0 ? this.#args : [...this.#args, '--port', String(this.port)];
    const child = spawn(process.execPath, [CLI, 'serve', ...args], { cwd: this.#cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#output = '';
    child.stdout.on('data', (chunk: Buffer) => (this.#output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (this.#output += chunk.toString('utf8')));
    let match: RegExpExecArray | null = null;
    await waitFor(() => (match = /Confab listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(this.#output)) !== null || child.exitCode !== null, 'confab serve to listen', 60_000)
      .catch((error: Error) => Promise.reject(new Error(`${error.message}:\n${this.#output}`)));
    if (!match) throw new Error(`confab serve exited (${child.exitCode}):\n${this.#output}`);
    this.port = Number((match as RegExpExecArray)[1]);
  }

  /** What it printed since it was last started. */
  get output(): string {
    return this.#output;
  }

  /** Sends `signal` to the node process and resolves once it has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill(signal);
    await exited;
  }
}

/** A terminal of `columns` × `rows` in tmux, on a tmux server of its own, running one command. */
export class Terminal {
  readonly #socket: string;
  readonly #session = 'main';

  private constructor(socket: string) {
    this.#socket = socket;
  }

  /**
   * Opens the terminal running `command` (through `sh -c`, with `exec` so the pane's process is the
   * command's own). Box-drawing is asked in UTF-8 rather than the terminal's line-drawing set, so that
   * `capture-pane` shows it as it is drawn.
   */
  static open(command: string, options: { columns: number; rows: number; cwd: string }): Terminal {
    const terminal = new Terminal(`confab-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    terminal.#tmux('new-session', '-d', '-s', terminal.#session, '-x', String(options.columns), '-y', String(options.rows), '-c', options.cwd,
      `exec env NCURSES_NO_UTF8_ACS=1 ${command}`);
    return terminal;
  }

  /** Types text literally (no key names). */
  type(text: string): void {
    this.#tmux('send-keys', '-t', this.#session, '-l', text);
  }

  /** Presses keys by tmux name: `Enter`, `Left`, `C-a`, `BSpace`, `PageUp`, `F3`, `Tab`… */
  keys(...names: string[]): void {
    this.#tmux('send-keys', '-t', this.#session, ...names);
  }

  /** Types a line and Enter. */
  line(text: string): void {
    this.type(text);
    this.keys('Enter');
  }

  /** Pastes text as a terminal paste does (newlines become Enter). */
  paste(text: string): void {
    this.#tmux('set-buffer', '-b', 'paste', text);
    this.#tmux('paste-buffer', '-b', 'paste', '-t', this.#session);
  }

  /** What the screen shows now, one line per row. */
  screen(): string {
    return this.#tmux('capture-pane', '-p', '-t', this.#session);
  }

  /** The PID of the pane's process (the command, thanks to `exec`). */
  pid(): number {
    return Number(this.#tmux('display-message', '-p', '-t', this.#session, '#{pane_pid}').trim());
  }

  /** True while the command runs. */
  get running(): boolean {
    return spawnSync('tmux', ['-L', this.#socket, 'has-session', '-t', this.#session]).status === 0;
  }

  /** Waits until the screen matches `pattern`; fails showing the screen. */
  async waitFor(pattern: RegExp, what: string, timeoutMs = 15_000): Promise<string> {
    let text = '';
    try {
      await waitFor(() => this.running && pattern.test((text = this.screen())), what, timeoutMs);
    } catch (error) {
      throw new Error(`${(error as Error).message}; the screen shows:\n${text}`);
    }
    return text;
  }

  /** Ends the tmux server (and with it the command). Idempotent. */
  close(): void {
    spawnSync('tmux', ['-L', this.#socket, 'kill-server']);
  }

  #tmux(...args: string[]): string {
    const result = spawnSync('tmux', ['-L', this.#socket, ...args], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`tmux ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout;
  }
}
