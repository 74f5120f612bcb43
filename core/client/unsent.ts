/**
 * The reliable messages a client holds while it has no joined connection: before the first WELCOME, while
 * it resumes, and while it joins again after a server restart. They are kept as the plugin gave them and
 * encoded only when sent, because a rejoined server may number its channels differently.
 */
import { ConfabError, isConfabError } from '../errors.js';
import type { ClientChannels } from './channels.js';

/** One message waiting for a connection. */
interface Unsent {
  channel: string;
  message: object | Uint8Array;
}

/** The client's queue of unsent reliable messages, bounded by `maxQueuedFrames`. */
export class UnsentMessages {
  readonly #max: number;
  #queue: Unsent[] = [];

  /** `max`: how many messages may wait; one more throws SEND_QUEUE_OVERFLOW. */
  constructor(max: number) {
    this.#max = max;
  }

  /** How many messages wait. */
  get size(): number {
    return this.#queue.length;
  }

  /**
   * Keeps a message for later. Throws SEND_QUEUE_OVERFLOW (not fatal) when `max` already wait; `state`
   * says in the message why nothing is connected.
   */
  add(channel: string, message: object | Uint8Array, state: string): void {
    if (this.#queue.length >= this.#max) {
      const text = `${this.#queue.length} messages already wait for a connection (the client is ${state}): maxQueuedFrames`;
      throw new ConfabError('SEND_QUEUE_OVERFLOW', text, { fatal: false });
    }
    this.#queue.push({ channel, message });
  }

  /**
   * Encodes every waiting message with the current channel map and writes it, oldest first, emptying the
   * queue. A message the server cannot take (its channel is gone) is reported through `onError`.
   */
  flush(channels: ClientChannels, write: (frame: Uint8Array) => void, onError: (error: ConfabError) => void): void {
    const queue = this.#queue;
    this.#queue = [];
    for (const { channel, message } of queue) {
      try {
        write(channels.encode(channel, message).frame);
      } catch (error) {
        onError(isConfabError(error) ? error : new ConfabError('INVALID_PAYLOAD', String(error), { cause: error }));
      }
    }
  }

  /** Forgets every waiting message (the client closed). */
  clear(): void {
    this.#queue = [];
  }
}
