/**
 * The chat plugin, client half: send room-wide or private messages, get them acknowledged, receive the
 * room's messages and the history sent on join. Used by the web client, the terminal UI and bots.
 *
 * @example
 *   const client = new ConfabClient({ url: 'tcp://127.0.0.1:5000', name: 'alice', room: 'lab1' });
 *   const chat = client.use(chatClient());
 *   chat.on('message', (m) => console.log(`${m.from.name}: ${m.text}`));
 *   await client.connect();
 *   await chat.send('hello');                 // resolves with the stored message (server id and time)
 *   await chat.send('psst', { to: peer.id }); // private
 */
import { ConfabError } from '../../core/errors.js';
import type { ClientPlugin } from '../../core/client/types.js';
import { Emitter } from '../../core/client/emitter.js';
import { CHAT_CHANNEL, type ChatMessage, type ChatServerMessage } from './protocol.js';

/** Messages kept in `chat.messages` for a UI; older ones are forgotten. */
const KEPT_MESSAGES = 1000;

/** Events of the chat client half. */
export type ChatEvents = {
  /** A message from someone else, or one of ours once the server acknowledged it. */
  message: [ChatMessage];
  /** The room's recent messages, sent by the server when this client joins. */
  history: [ChatMessage[]];
};

/** What `client.use(chatClient())` returns. */
export interface ChatApi extends Pick<Emitter<ChatEvents>, 'on' | 'off' | 'once'> {
  /**
   * Sends a message to the room, or privately with `to` (a peer's session id). Resolves with the stored
   * message once the server acknowledges it; rejects with the server's ConfabError (CHAT_TEXT_TOO_LONG…).
   * A message in flight when the connection drops is re-sent after the resume (or after the rejoin, when the
   * server restarted) and stored only once.
   */
  send(text: string, options?: { to?: string }): Promise<ChatMessage>;
  /** History and messages since, oldest first (the last 1000). */
  readonly messages: readonly ChatMessage[];
}

interface Pending {
  text: string;
  to?: string;
  resolve(message: ChatMessage): void;
  reject(error: ConfabError): void;
}

/** Creates the chat client half. */
export function chatClient(): ClientPlugin<ChatApi> {
  return {
    name: 'chat',
    attach(ctx) {
      const events = new Emitter<ChatEvents>();
      const messages: ChatMessage[] = [];
      const pending = new Map<string, Pending>();
      // clientIds name a message beyond one session (a re-send after a server restart), so they must not collide.
      const prefix = randomPrefix();
      let counter = 0;

      const keep = (message: ChatMessage) => {
        // A re-sent message the server had stored already comes back with its first id: shown once.
        if (messages.some((known) => known.id === message.id)) return;
        messages.push(message);
        if (messages.length > KEPT_MESSAGES) messages.splice(0, messages.length - KEPT_MESSAGES);
        events.emit('message', message);
      };
      const transmit = (clientId: string, request: Pending) => {
        const message: Record<string, unknown> = { op: 'send', text: request.text, clientId };
        if (request.to !== undefined) message.to = request.to;
        ctx.send(CHAT_CHANNEL, message);
      };

      ctx.onMessage(CHAT_CHANNEL, (raw) => {
        const message = raw as unknown as ChatServerMessage;
        if (message.op === 'history') {
          messages.splice(0, messages.length, ...message.messages.slice(-KEPT_MESSAGES));
          events.emit('history', message.messages);
        } else if (message.op === 'message') {
          const { op: _op, ...stored } = message;
          keep(stored);
        } else if (message.op === 'ack') {
          const { op: _op, ...stored } = message;
          const request = stored.clientId === undefined ? undefined : pending.get(stored.clientId);
          if (!request) return;
          pending.delete(stored.clientId!);
          keep(stored);
          request.resolve(stored);
        }
      });
      ctx.onError((error) => {
        const request = error.ref === undefined ? undefined : pending.get(error.ref);
        if (!request) return;
        pending.delete(error.ref!);
        request.reject(error);
      });
      // A send written just before the connection broke may never have arrived: send it again with the same
      // clientId. The server stores it once and acknowledges it (again).
      const resend = () => {
        for (const [clientId, request] of pending) transmit(clientId, request);
      };
      ctx.on('resumed', resend);
      ctx.on('rejoined', resend);
      ctx.on('close', ({ error, reason }) => {
        for (const request of pending.values()) {
          request.reject(error ?? new ConfabError('CONNECTION_CLOSED', `the client closed (${reason}) before the server acknowledged the message`));
        }
        pending.clear();
      });

      return {
        on: events.on.bind(events),
        off: events.off.bind(events),
        once: events.once.bind(events),
        messages,
        send(text: string, options: { to?: string } = {}) {
          return new Promise<ChatMessage>((resolve, reject) => {
            const clientId = `${prefix}-${++counter}`;
            const request: Pending = { text, to: options.to, resolve, reject };
            pending.set(clientId, request);
            try {
              transmit(clientId, request);
            } catch (error) {
              pending.delete(clientId);
              reject(error);
            }
          });
        },
      };
    },
  };
}

/** 12 random base-36 characters (about 62 bits), from the platform's CSPRNG (Node and browsers). */
function randomPrefix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (byte) => (byte % 36).toString(36)).join('');
}
