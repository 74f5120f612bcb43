/**
 * A terminal progress bar for the CLI, the terminal client and bots: one line redrawn in place on a TTY
 * (at most ten times a second), and on anything else (a pipe, a log file, CI) no drawing at all, only the
 * final line — so redirected output stays clean.
 *
 * @example
 *   const bar = new ProgressBar({ label: 'slides.pdf', total: file.size });
 *   upload.on('progress', ({ sent }) => bar.update(sent));
 *   try {
 *     await upload.done;
 *     bar.done('sent');            // "slides.pdf  12.0 MB  sent in 0.4 s (30.1 MB/s)"
 *   } catch (error) {
 *     bar.fail(String(error));    // "slides.pdf  failed at 41%: …"
 *   }
 */

/** Where a bar draws: a writable with an optional TTY width (process.stdout, process.stderr). */
export interface ProgressStream {
  write(text: string): unknown;
  /** True on a terminal: only then is the bar drawn. */
  isTTY?: boolean;
  /** Terminal width in columns. */
  columns?: number;
}

/** Options of a progress bar. */
export interface ProgressBarOptions {
  /** What is progressing (a file name): the start of the line. */
  label: string;
  /** The amount at the end, in bytes. */
  total: number;
  /** Where to draw. Default `process.stdout`. */
  stream?: ProgressStream;
  /** Draw the bar even when the stream is not a TTY (tests). Default: only on a TTY. */
  interactive?: boolean;
  /** Shortest time between two redraws, in ms. Default 100. */
  redrawMs?: number;
}

/** One line of progress: bar, percentage, bytes, rate and time left. */
export class ProgressBar {
  readonly #label: string;
  readonly #total: number;
  readonly #stream: ProgressStream;
  readonly #interactive: boolean;
  readonly #redrawMs: number;
  readonly #startedAt = performance.now();
  #current = 0;
  #drawnAt = -Infinity;
  #finished = false;

  constructor(options: ProgressBarOptions) {
    this.#label = options.label;
    this.#total = Math.max(0, options.total);
    this.#stream = options.stream ?? process.stdout;
    this.#interactive = options.interactive ?? this.#stream.isTTY === true;
    this.#redrawMs = options.redrawMs ?? 100;
  }

  /** Sets how far it got (bytes); redraws when enough time passed since the last drawing. */
  update(current: number): void {
    if (this.#finished) return;
    this.#current = Math.min(Math.max(0, current), this.#total);
    const now = performance.now();
    if (!this.#interactive || now - this.#drawnAt < this.#redrawMs) return;
    this.#drawnAt = now;
    this.#stream.write(`\r${this.line()}\x1b[K`);
  }

  /** Ends the bar with a success line: label, total size, `verb` ("sent", "saved"), time and rate. */
  done(verb = 'done'): void {
    if (this.#finished) return;
    this.#current = this.#total;
    const seconds = this.#elapsedSeconds();
    const rate = seconds > 0 ? ` (${formatBytes(this.#total / seconds)}/s)` : '';
    this.#finish(`${this.#label}  ${formatBytes(this.#total)}  ${verb} in ${seconds.toFixed(1)} s${rate}`);
  }

  /** Ends the bar with a failure line naming how far it got. */
  fail(reason: string): void {
    if (this.#finished) return;
    this.#finish(`${this.#label}  failed at ${this.#percent()}%: ${reason}`);
  }

  /** The bar as text, fitted to the terminal width (80 columns when unknown). */
  line(): string {
    const seconds = this.#elapsedSeconds();
    const rate = seconds > 0 ? this.#current / seconds : 0;
    const left = rate > 0 ? (this.#total - this.#current) / rate : undefined;
    const stats = ` ${String(this.#percent()).padStart(3)}%  ${formatBytes(this.#current)} / ${formatBytes(this.#total)}`
      + `  ${formatBytes(rate)}/s  ETA ${left === undefined ? '--:--' : formatDuration(left)}`;
    const columns = this.#stream.columns ?? 80;
    const label = this.#label.length > 24 ? `${this.#label.slice(0, 23)}…` : this.#label;
    const width = Math.max(10, Math.min(40, columns - label.length - stats.length - 5));
    const filled = this.#total === 0 ? width : Math.round((this.#current / this.#total) * width);
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${stats}`;
  }

  #finish(text: string): void {
    this.#finished = true;
    this.#stream.write(this.#interactive ? `\r${text}\x1b[K\n` : `${text}\n`);
  }

  #percent(): number {
    return this.#total === 0 ? 100 : Math.floor((this.#current / this.#total) * 100);
  }

  #elapsedSeconds(): number {
    return (performance.now() - this.#startedAt) / 1000;
  }
}

/**
 * Bytes for people, in powers of 1000 as file managers show them: `950 B`, `12.3 kB`, `4.0 MB`, `1.07 GB`.
 */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} ${units[unit]}`;
}

/** Seconds as `m:ss` (or `h:mm:ss`). */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
