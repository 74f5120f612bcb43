/**
 * What the files client half's upload and download loops run on: the transfers running now, by the
 * server's transfer id (the message handlers hand each its acks, chunks and errors), and the inside of one
 * transfer (its progress events, a wake-up for its loop, cancellation). Platform-neutral.
 */
import type { ConfabClient } from '../../core/client/client.js';
import { Emitter } from '../../core/client/emitter.js';
import type { ClientChannel } from '../../core/client/types.js';
import type { ConfabError } from '../../core/errors.js';
import type { Transfer } from './client-types.js';
import type { Hasher } from './hasher.js';
import { FILES_ERRORS, type FileInfo, type FilesMessage, type FilesRequest } from './protocol.js';

/** A running transfer, as the message handlers see it. */
export interface Running {
  /** The ref of the offer or get that started it: the server's errors about the transfer carry it. */
  readonly ref: string;
  /** The server confirmed this many bytes of an upload. */
  onAck?(offset: number): void;
  /** A chunk of a download arrived. */
  onChunk?(offset: number, bytes: Uint8Array): void;
  /** The server stored an upload. */
  onStored?(file: FileInfo): void;
  /** The session was resumed on a new connection. */
  onResumed(): void;
  /** The transfer cannot go on: the server refused it, or the session it ran in is gone. */
  fail(error: ConfabError): void;
}

/**
 * The running transfers of one client, by the server's transfer id. A download's first chunks (or an error
 * about it) may arrive in the same read as the `sending` answer, before its loop, which awaits that answer,
 * can take them: while some loop is waiting for an answer (`expect()`), what arrives for a transfer that is
 * not running yet is kept, and handed to it when it starts (`start()`).
 */
export class RunningTransfers {
  readonly #byId = new Map<number, Running>();
  /** Loops waiting for the answer that starts their transfer. */
  #expected = 0;
  /** Chunks that arrived for transfers not started yet, while some loop is waiting. */
  readonly #earlyChunks = new Map<number, Array<[offset: number, bytes: Uint8Array]>>();
  /** Errors with a ref no running transfer has, while some loop is waiting. */
  #earlyErrors: ConfabError[] = [];

  /** The running transfer with this id, if any. */
  get(transfer: number): Running | undefined {
    return this.#byId.get(transfer);
  }

  /** Every running transfer. */
  all(): Running[] {
    return [...this.#byId.values()];
  }

  /**
   * Says a loop is waiting for the answer that starts its transfer; the function returned says it stopped
   * waiting (it started, or failed).
   */
  expect(): () => void {
    this.#expected++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.#expected > 0) return;
      this.#earlyChunks.clear();
      this.#earlyErrors = [];
    };
  }

  /** Starts a transfer: from now on its messages reach `running`, first those that came early. */
  start(transfer: number, running: Running): void {
    this.#byId.set(transfer, running);
    for (const [offset, bytes] of this.#earlyChunks.get(transfer) ?? []) running.onChunk?.(offset, bytes);
    this.#earlyChunks.delete(transfer);
    const error = this.#earlyErrors.find((early) => early.ref === running.ref);
    if (error) running.fail(error);
  }

  /** Stops handing messages to a transfer that ended. */
  end(transfer: number): void {
    this.#byId.delete(transfer);
  }

  /** Hands a chunk to its transfer (a copy is kept when it came early; it is dropped when nobody waits). */
  chunk(transfer: number, offset: number, bytes: Uint8Array): void {
    const running = this.#byId.get(transfer);
    if (running) return running.onChunk?.(offset, bytes);
    if (this.#expected === 0) return;
    const early = this.#earlyChunks.get(transfer) ?? [];
    early.push([offset, bytes.slice()]);
    this.#earlyChunks.set(transfer, early);
  }

  /** Hands the server's error to the transfer it names by ref (kept when it may have come early). */
  error(error: ConfabError): void {
    const running = this.all().find((candidate) => candidate.ref === error.ref);
    if (running) running.fail(error);
    else if (this.#expected > 0) this.#earlyErrors.push(error);
  }
}

/** What the upload and download loops share with the plugin. */
export interface TransferContext {
  readonly client: ConfabClient;
  readonly control: ClientChannel<FilesMessage, FilesRequest>;
  readonly data: ClientChannel<Uint8Array, Uint8Array>;
  readonly running: RunningTransfers;
  createHasher(): Hasher | Promise<Hasher>;
  /** The error the client closed with, once it is closed. */
  isClosed(): ConfabError | undefined;
}

/** The inside of a transfer: its emitter, a wake-up for its loop, and cancellation. */
export interface TransferControl<Progress> {
  readonly events: Emitter<{ progress: [Progress] }>;
  /** Resolves at the next event that may let the loop go on (an ack, a chunk, a resume, a cancel). */
  wait(): Promise<void>;
  wake(): void;
  /** Set once cancelled or failed from outside the loop. */
  stop: ConfabError | undefined;
  /** Stops the loop with `error`, unless it was stopped already. */
  fail(error: ConfabError): void;
}

/** Runs a transfer's loop and gives the app its handle: progress events, `done` and `cancel()`. */
export function startTransfer<Progress>(run: (control: TransferControl<Progress>) => Promise<FileInfo>): Transfer<Progress> {
  let waiting: Array<() => void> = [];
  const control: TransferControl<Progress> = {
    events: new Emitter(),
    stop: undefined,
    wait: () => new Promise((resolve) => waiting.push(resolve)),
    wake: () => {
      const woken = waiting;
      waiting = [];
      for (const resolve of woken) resolve();
    },
    fail(error) {
      control.stop ??= error;
      control.wake();
    },
  };
  const done = run(control);
  return {
    on: control.events.on.bind(control.events),
    off: control.events.off.bind(control.events),
    once: control.events.once.bind(control.events),
    done,
    cancel: () => control.fail(FILES_ERRORS.FILES_CANCELLED({ message: 'the transfer was cancelled' })),
  };
}

/** Throws when the transfer was stopped (cancelled, refused) or the client closed. */
export function checkStop(context: TransferContext, control: TransferControl<unknown>): void {
  const why = control.stop ?? context.isClosed();
  if (why) throw why;
}

/**
 * Waits for `answer`, unless the transfer is stopped or the client closes first (checked at every
 * wake-up): then rejects with why.
 */
export function unlessStopped<T>(context: TransferContext, control: TransferControl<unknown>, answer: Promise<T>): Promise<T> {
  const stopped = new Promise<never>((_resolve, reject) => {
    const check = () => {
      const why = control.stop ?? context.isClosed();
      if (why) return reject(why);
      void control.wait().then(check);
    };
    check();
  });
  return Promise.race([answer, stopped]);
}
