/**
 * The chat plugin, server half: room-wide and private messages, acks with server ids and timestamps,
 * idempotent re-sends by clientId (within a session, and after a server restart through the stored
 * history), and a bounded per-room history kept in the store across restarts.
 */
import { randomUUID } from 'node:crypto';
import { definePlugin } from '../../core/config.js';
import { withLimits } from '../../core/channel-def.js';
import { ConfabError, isConfabError } from '../../core/errors.js';
import { isStoreError, storeWriteError } from '../../core/store.js';
import { readOptions } from '../../core/options.js';
import type { Plugin, Session } from '../../core/index.js';
import { ChatHistory, sentEarlier, visibleTo, type RoomHistory } from './history.js';
import { CHAT, CHAT_ERRORS, type ChatMessage, type ChatSend } from './protocol.js';

/** Options of the chat plugin. */
export interface ChatOptions {
  /** Messages per room kept and sent to late joiners. 0 keeps none. Default 100. */
  historyLimit?: number;
  /** Longest message, in characters (Unicode code points). Default 4000. */
  maxTextLength?: number;
}

/** clientIds remembered per session for idempotent re-sends. */
const REMEMBERED_CLIENT_IDS = 256;
/** Buckets of the send-to-fan-out histogram, seconds: 50 µs to a quarter second. */
const FANOUT_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

/**
 * Creates the chat plugin.
 *
 * @example
 *   defineConfig({ plugins: [chat({ historyLimit: 200 })] });
 */
export function chat(options: ChatOptions = {}): Plugin {
  const { historyLimit, maxTextLength } = readOptions('chat', options, {
    historyLimit: { type: 'integer', min: 0, max: 100_000, default: 100 },
    maxTextLength: { type: 'integer', min: 1, max: 1_000_000, default: 4000 },
  });

  return definePlugin({
    name: 'chat',
    channels: [withLimits(CHAT, { maxPayload: maxTextLength * 4 + 4096 })],
    errors: CHAT_ERRORS,
    async setup(ctx) {
      const channel = ctx.channel(CHAT);
      const history = new ChatHistory(ctx.store, historyLimit);
      await history.migrate();
      /**
       * A room's history (once read from the store) and the tail of its queue: loading, each message's write
       * and fan-out, and each joiner's history run one after the other, so the room's order is the store's.
       */
      const rooms = ctx.perRoom((room) => new RoomQueue(() => history.load(room.name)));
      const sentByClientId = ctx.perSession(() => new Map<string, ChatMessage>());
      const fanout = ctx.metrics.histogram('confab_chat_fanout_seconds',
        'A new chat message: from its handling (parse, checks, history write) to its fan-out written to every recipient, seconds.', FANOUT_BUCKETS);

      /** Sends a failed request's error to its sender (a store failure as STORE_WRITE_FAILED, retryable). */
      const refuse = (session: Session, error: unknown, ref: string | undefined) => {
        let failure: ConfabError;
        if (isConfabError(error)) failure = error;
        else if (isStoreError(error)) {
          ctx.log.warn('chat message not stored', { room: session.room.name, error: String(error) });
          failure = storeWriteError(error, ref);
        } else {
          ctx.log.error('chat failed', { room: session.room.name, error: String(error) });
          failure = new ConfabError('INTERNAL_ERROR', 'the "chat" plugin failed on this message');
        }
        failure.channel ??= 'chat';
        if (ref !== undefined) failure.ref ??= ref;
        ctx.metrics.add(ctx.metrics.errors, failure.code);
        if (session.state !== 'closed') session.sendError(failure);
      };

      ctx.hooks.sessionJoined.tap('chat', (session, room) => {
        if (historyLimit === 0) return;
        const queue = rooms.get(room);
        const send = (loaded: RoomHistory) => {
          if (session.state !== 'closed') channel.send(session, { op: 'history', messages: visibleTo(loaded, session.id) });
        };
        // Loaded and idle: at once, as before any message that follows; otherwise in the room's order.
        if (queue.idle && queue.history) send(queue.history);
        else queue.run(send).catch((error: unknown) => ctx.log.warn('chat history not sent', { room: room.name, error: String(error) }));
      });

      channel.onMessage((session, request) => {
        const started = performance.now();
        if (!session.grants.has('chat')) throw CHAT_ERRORS.CHAT_NOT_ALLOWED();
        if (request.text.trim().length === 0) throw CHAT_ERRORS.CHAT_TEXT_EMPTY();
        if (isLongerThan(request.text, maxTextLength)) {
          throw CHAT_ERRORS.CHAT_TEXT_TOO_LONG({ message: `the text has more than ${maxTextLength} characters; shorten it or split it` });
        }
        let recipient: Session | undefined;
        if (request.to !== undefined) {
          recipient = session.room.get(request.to);
          if (!recipient || recipient === session) throw CHAT_ERRORS.CHAT_NO_SUCH_PEER({ message: `no other participant with id "${request.to}" is in this room` });
        }
        rooms.get(session.room).run((loaded) => handle(session, request, recipient, loaded, started))
          .catch((error: unknown) => refuse(session, error, request.clientId));
      });

      /** A checked message, in its room's turn: answered from memory when it is a re-send, else delivered. */
      async function handle(session: Session, request: ChatSend, recipient: Session | undefined, loaded: RoomHistory, started: number): Promise<void> {
        const remembered = sentByClientId.get(session);
        const earlier = request.clientId === undefined ? undefined : remembered.get(request.clientId);
        if (earlier) {
          if (earlier.text !== request.text || earlier.to?.id !== request.to) throw CHAT_ERRORS.CHAT_CLIENT_ID_REUSED();
          channel.send(session, { op: 'ack', ...earlier });
          return;
        }
        // A client that joined again after a restart re-sends what was never acknowledged: it may be stored.
        const stored = request.clientId === undefined ? undefined : sentEarlier(loaded, request.clientId, session.name, request.text, recipient?.name);
        if (stored) {
          const acked = { ...stored, clientId: request.clientId };
          remembered.set(request.clientId!, acked);
          channel.send(session, { op: 'ack', ...acked });
          return;
        }
        await deliver(session, request, recipient, loaded, started);
      }

      /**
       * Stores a new message and, once the write has committed, sends it to the room (or the recipient) and
       * acknowledges it to the sender. A message the store cannot take (a full disk, an unreachable
       * PostgreSQL) rejects, and its sender is refused with STORE_WRITE_FAILED and its clientId: it was sent
       * to nobody, and the client may send it again.
       */
      async function deliver(session: Session, request: ChatSend, recipient: Session | undefined, loaded: RoomHistory, started: number): Promise<void> {
        const remembered = sentByClientId.get(session);
        const message: ChatMessage = { id: randomUUID(), from: session.info, text: request.text, ts: Date.now() };
        if (recipient) message.to = recipient.info;
        await history.add(loaded, message, request.clientId);

        if (recipient) {
          if (recipient.state !== 'closed') channel.send(recipient, { op: 'message', ...message });
        } else channel.broadcast(session.room, { op: 'message', ...message }, { except: session });
        fanout((performance.now() - started) / 1000);

        const acked = request.clientId === undefined ? message : { ...message, clientId: request.clientId };
        if (request.clientId !== undefined) {
          remembered.set(request.clientId, acked);
          if (remembered.size > REMEMBERED_CLIENT_IDS) remembered.delete(remembered.keys().next().value!);
        }
        if (session.state !== 'closed') channel.send(session, { op: 'ack', ...acked });
      }
    },
  });
}

/**
 * One room's chat queue: its history, read from the store on first use (and read again after a failed
 * read), and a promise chain that runs the room's tasks one at a time, in the order they came.
 */
class RoomQueue {
  history: RoomHistory | undefined;
  #load: () => Promise<RoomHistory>;
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;

  constructor(load: () => Promise<RoomHistory>) {
    this.#load = load;
    // Start reading at once, so the first joiner rarely waits.
    void this.run(() => undefined).catch(() => undefined);
  }

  /** True when no task is queued or running. */
  get idle(): boolean {
    return this.#pending === 0;
  }

  /** Runs `task` with the room's history after every task queued before it; resolves or rejects with it. */
  run<T>(task: (history: RoomHistory) => T | Promise<T>): Promise<T> {
    this.#pending++;
    const result = this.#tail.then(async () => {
      this.history ??= await this.#load();
      return task(this.history);
    });
    this.#tail = result.catch(() => undefined).finally(() => this.#pending--);
    return result;
  }
}

/** True when `text` has more than `limit` code points (an emoji counts once). */
function isLongerThan(text: string, limit: number): boolean {
  if (text.length <= limit) return false;
  let count = 0;
  for (const _codePoint of text) if (++count > limit) return true;
  return false;
}
