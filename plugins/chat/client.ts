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
import type { ClientPlugin } from '../../core/client/types.js';
import { Emitter } from '../../core/client/emitter.js';
import { replyOf } from '../../core/client/requests.js';
import { CHAT, type ChatMessage } from './protocol.js';

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

/** Creates the chat client half. */
export function chatClient(): ClientPlugin<ChatApi> {
  return {
    name: 'chat',
    attach(ctx) {
      const events = new Emitter<ChatEvents>();
      const messages: ChatMessage[] = [];
      const channel = ctx.channel(CHAT);

      const keep = (message: ChatMessage) => {
        // A re-sent message the server had stored already comes back with its first id: shown once.
        if (messages.some((known) => known.id === message.id)) return message;
        messages.push(message);
        if (messages.length > KEPT_MESSAGES) messages.splice(0, messages.length - KEPT_MESSAGES);
        events.emit('message', message);
        return message;
      };

      channel.onMessage((message) => {
        if (message.op === 'history') {
          messages.splice(0, messages.length, ...message.messages.slice(-KEPT_MESSAGES));
          events.emit('history', message.messages);
        } else {
          const { op: _op, ...stored } = message;
          keep(stored);
        }
      });

      return {
        on: events.on.bind(events),
        off: events.off.bind(events),
        once: events.once.bind(events),
        messages,
        // The request's clientId makes a re-send (after a resume or a rejoin) idempotent: stored once, acked again.
        async send(text: string, options: { to?: string } = {}) {
          const { op: _op, ...stored } = replyOf(await channel.request({ op: 'send', text, to: options.to }), 'ack');
          return keep(stored);
        },
      };
    },
  };
}
