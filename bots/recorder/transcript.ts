/**
 * The recorder's chat transcript: one JSON object per line (JSON Lines), appended as things happen, so a
 * recording cut short still has everything up to that point.
 *
 *   {"type":"message","id":"…","from":{"id","name"},"to"?:{…},"text":"hi","ts":1732000000000}
 *   {"type":"joined","peer":{"id","name"},"ts":…}
 *   {"type":"left","peer":{"id","name"},"reason":"bye","ts":…}
 *   {"type":"file","file":{…FileInfo},"savedAs":"slides.pdf","ts":…}
 */
import { createWriteStream, type WriteStream } from 'node:fs';

/** Appends transcript lines to a file. */
export class Transcript {
  readonly #stream: WriteStream;
  /** Lines written. */
  lines = 0;

  constructor(path: string) {
    this.#stream = createWriteStream(path, { flags: 'w' });
    this.#stream.on('error', () => {});
  }

  /** Appends one event. */
  write(event: { type: string } & Record<string, unknown>): void {
    this.#stream.write(`${JSON.stringify(event)}\n`);
    this.lines++;
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    return new Promise((resolve) => this.#stream.end(resolve));
  }
}
