/**
 * The chat plugin, server half: room-wide and private messages, acks with server ids and timestamps,
 * idempotent re-sends by clientId (within a session, and after a server restart through the stored
 * history), and a bounded per-room history kept in the store across restarts.
 */
import { randomUUID } from 'node:crypto';
import { definePlugin } from '../../core/config.js';
import { withLimits } from '../../core/channel-def.js';
import { isStoreError, storeWriteError } from '../../core/store.js';
import { readOptions } from '../../core/options.js';
import type { Plugin, Session } from '../../core/index.js';
import { ChatHistory, sentEarlier, visibleTo } from './history.js';
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
    setup(ctx) {
      const channel = ctx.channel(CHAT);
      const history = new ChatHistory(ctx.store, historyLimit);
      const roomHistory = ctx.perRoom((room) => history.load(room.name));
      const sentByClientId = ctx.perSession(() => new Map<string, ChatMessage>());
      const fanout = ctx.metrics.histogram('confab_chat_fanout_seconds',
        'A new chat message: from its handling (parse, checks, history write) to its fan-out written to every recipient, seconds.', FANOUT_BUCKETS);

      ctx.hooks.sessionJoined.tap('chat', (session, room) => {
        if (historyLimit === 0) return;
        channel.send(session, { op: 'history', messages: visibleTo(roomHistory.get(room), session.id) });
      });

      channel.onMessage((session, request) => {
        const started = performance.now();
        if (!session.grants.has('chat')) throw CHAT_ERRORS.CHAT_NOT_ALLOWED();

        const remembered = sentByClientId.get(session);
        const earlier = request.clientId === undefined ? undefined : remembered.get(request.clientId);
        if (earlier) {
          if (earlier.text !== request.text || earlier.to?.id !== request.to) throw CHAT_ERRORS.CHAT_CLIENT_ID_REUSED();
          channel.send(session, { op: 'ack', ...earlier });
          return;
        }

        if (request.text.trim().length === 0) throw CHAT_ERRORS.CHAT_TEXT_EMPTY();
        if (isLongerThan(request.text, maxTextLength)) {
          throw CHAT_ERRORS.CHAT_TEXT_TOO_LONG({ message: `the text has more than ${maxTextLength} characters; shorten it or split it` });
        }
        let recipient: Session | undefined;
        if (request.to !== undefined) {
          recipient = session.room.get(request.to);
          if (!recipient || recipient === session) throw CHAT_ERRORS.CHAT_NO_SUCH_PEER({ message: `no other participant with id "${request.to}" is in this room` });
        }
        // A client that joined again after a restart re-sends what was never acknowledged: it may be stored.
        const stored = request.clientId === undefined
          ? undefined
          : sentEarlier(roomHistory.get(session.room), request.clientId, session.name, request.text, recipient?.name);
        if (stored) {
          const acked = { ...stored, clientId: request.clientId };
          remembered.set(request.clientId!, acked);
          channel.send(session, { op: 'ack', ...acked });
          return;
        }
        deliver(session, request, recipient, started);
      });

      /**
       * Stores a new message, sends it to the room (or the recipient) and acknowledges it to the sender. A
       * message the store cannot take (a full disk) is refused with STORE_WRITE_FAILED and its clientId, and
       * sent to nobody: the client may send it again.
       */
      function deliver(session: Session, request: ChatSend, recipient: Session | undefined, started: number): void {
        const remembered = sentByClientId.get(session);
        const stored: ChatMessage = { id: randomUUID(), from: session.info, text: request.text, ts: Date.now() };
        if (recipient) stored.to = recipient.info;
        try {
          history.add(roomHistory.get(session.room), stored, request.clientId);
        } catch (error) {
          if (!isStoreError(error)) throw error;
          ctx.log.warn('chat message not stored', { room: session.room.name, error: String(error) });
          throw storeWriteError(error, request.clientId);
        }

        if (recipient) channel.send(recipient, { op: 'message', ...stored });
        else channel.broadcast(session.room, { op: 'message', ...stored }, { except: session });
        fanout((performance.now() - started) / 1000);

        const acked = request.clientId === undefined ? stored : { ...stored, clientId: request.clientId };
        if (request.clientId !== undefined) {
          remembered.set(request.clientId, acked);
          if (remembered.size > REMEMBERED_CLIENT_IDS) remembered.delete(remembered.keys().next().value!);
        }
        channel.send(session, { op: 'ack', ...acked });
      }
    },
  });
}

/** True when `text` has more than `limit` code points (an emoji counts once). */
function isLongerThan(text: string, limit: number): boolean {
  if (text.length <= limit) return false;
  let count = 0;
  for (const _codePoint of text) if (++count > limit) return true;
  return false;
}
