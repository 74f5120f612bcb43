/**
 * The client SDK's one request/response primitive, which every client half uses for what it asks the
 * server (`channel.request(...)`): the request gets a `ref`, the server's answer on the same channel carries
 * it back, and an ERROR with that `ref` rejects it. A request still waiting when the connection comes back
 * (resumed or rejoined) is sent again with the same `ref`, so a server that keeps refs answers it once; it
 * is rejected when the client closes, or after `timeoutMs` of being connected without an answer (the clock
 * stops while the client is reconnecting: a line typed while the server restarts still goes out).
 */
import { ConfabError } from '../errors.js';
import type { JsonObject } from '../json.js';

/** A request as a client half writes it: without `ref`, which `request()` adds (on each member of a union). */
export type WithoutRef<Request> = Request extends unknown ? Omit<Request, 'ref'> : never;

/** Options of one request. */
export interface RequestOptions {
  /** Reject with REQUEST_TIMEOUT after this long without an answer. Default 30 000 ms; 0 waits forever. */
  timeoutMs?: number;
}

/** A request's default time limit. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

interface Pending {
  channel: string;
  message: JsonObject;
  resolve(reply: JsonObject): void;
  reject(error: ConfabError): void;
  timeoutMs: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** The requests one client half is waiting on, by ref. */
export class PendingRequests {
  readonly #pending = new Map<string, Pending>();
  // Refs may name a request beyond one session (a chat line re-sent after a server restart): no collisions.
  readonly #prefix = randomPrefix();
  #counter = 0;

  /**
   * Sends `message` with a new ref in `refField` through `send`, and resolves with the answer `takeReply` is
   * given for it. A `send` that throws rejects at once.
   */
  request(channel: string, message: object, send: (message: JsonObject) => void, options: RequestOptions = {}, refField = 'ref'): Promise<JsonObject> {
    const ref = `${this.#prefix}-${++this.#counter}`;
    const withRef = { ...message, [refField]: ref } as JsonObject;
    return new Promise<JsonObject>((resolve, reject) => {
      const pending: Pending = { channel, message: withRef, resolve, reject, timeoutMs: options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, timer: undefined };
      this.#pending.set(ref, pending);
      this.#startClock(ref, pending);
      try {
        send(withRef);
      } catch (error) {
        this.#fail(ref, error instanceof ConfabError ? error : new ConfabError('INTERNAL_ERROR', String(error)));
      }
    });
  }

  /** Takes a server message that answers a pending request (same channel and ref); false when none does. */
  takeReply(channel: string, message: JsonObject, refField = 'ref'): boolean {
    const ref = message[refField];
    const pending = typeof ref === 'string' ? this.#pending.get(ref) : undefined;
    if (!pending || pending.channel !== channel) return false;
    this.#settle(ref as string).resolve(message);
    return true;
  }

  /** Takes a server error that refuses a pending request (by its `ref`); false when none does. */
  takeError(error: ConfabError): boolean {
    if (error.ref === undefined || !this.#pending.has(error.ref)) return false;
    this.#fail(error.ref, error);
    return true;
  }

  /** Sends every waiting request again, with its `ref` (after a resume or a rejoin); their clocks start again. */
  resend(send: (channel: string, message: JsonObject) => void): void {
    for (const [ref, pending] of this.#pending) {
      this.#startClock(ref, pending);
      send(pending.channel, pending.message);
    }
  }

  /** Stops every waiting request's clock (the connection is lost; `resend` starts them again). */
  pause(): void {
    for (const pending of this.#pending.values()) clearTimeout(pending.timer);
  }

  #startClock(ref: string, pending: Pending): void {
    clearTimeout(pending.timer);
    if (pending.timeoutMs <= 0) return;
    pending.timer = setTimeout(() => this.#fail(ref, new ConfabError('REQUEST_TIMEOUT',
      `the server did not answer ${describe(pending.message)} on "${pending.channel}" within ${pending.timeoutMs} ms`)), pending.timeoutMs);
  }

  /** Rejects every waiting request (the client closed). */
  rejectAll(error: ConfabError): void {
    for (const ref of [...this.#pending.keys()]) this.#fail(ref, error);
  }

  #settle(ref: string): Pending {
    const pending = this.#pending.get(ref)!;
    clearTimeout(pending.timer);
    this.#pending.delete(ref);
    return pending;
  }

  #fail(ref: string, error: ConfabError): void {
    if (this.#pending.has(ref)) this.#settle(ref).reject(error);
  }
}

/** 12 random base-36 characters (about 62 bits), from the platform's CSPRNG (Node and browsers). */
function randomPrefix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (byte) => (byte % 36).toString(36)).join('');
}

function describe(message: JsonObject): string {
  return typeof message.op === 'string' ? `"${message.op}"` : 'the request';
}

/**
 * The answer of a request as the reply it should be: `reply` itself when its `op` is `op`, typed as that
 * member of the channel's messages; else an UNEXPECTED_REPLY error (a server of another version, say).
 *
 * @example
 *   const poll = replyOf(await channel.request({ op: 'create', question, options }), 'poll').poll;
 */
export function replyOf<Message extends { op: string }, Op extends Message['op']>(reply: Message, op: Op): Extract<Message, { op: Op }> {
  if (reply.op !== op) throw new ConfabError('UNEXPECTED_REPLY', `the server answered "${reply.op}" where "${op}" was expected; is it another version?`);
  return reply as Extract<Message, { op: Op }>;
}
