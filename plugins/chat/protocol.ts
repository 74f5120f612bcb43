/**
 * The chat plugin's messages, shared by its server and client halves. One json channel, `chat`.
 *
 * client → server  {"op":"send","text":"hi","to"?:"<session id>","clientId"?:"c1"}
 * server → others  {"op":"message", …ChatMessage}
 * server → sender  {"op":"ack", …ChatMessage}            (the stored message, with the sender's clientId)
 * server → joiner  {"op":"history","messages":[ChatMessage…]}   (oldest first)
 * errors           ERROR frames with "channel":"chat" and "ref": the clientId (codes in CHAT_ERRORS)
 *
 * A message's `clientId` names it for its sender (the client SDK's channel.request fills it in): the ack
 * carries it back, a re-send with the same clientId is stored once (after a server restart too, through
 * the stored history), and an ERROR refusing it carries it as `ref`.
 */
import { jsonChannel, requestRef } from '../../core/channel-def.js';
import { defineErrors } from '../../core/errors.js';
import type { JsonObject } from '../../core/json.js';

/** A participant as chat shows it. */
export interface ChatParty {
  id: string;
  name: string;
}

/** A stored chat message. */
export interface ChatMessage {
  /** Server-assigned id. */
  id: string;
  from: ChatParty;
  /** The one recipient of a private message; absent for the whole room. */
  to?: ChatParty;
  text: string;
  /** Server time, ms since epoch. */
  ts: number;
  /** The sender's own id for the message, given back to the sender only. */
  clientId?: string;
}

/** What a client sends: a message for the room, or for one participant with `to`. */
export interface ChatSend {
  op: 'send';
  text: string;
  to?: string;
  clientId?: string;
}

/** What the server sends. */
export type ChatServerMessage =
  | ({ op: 'message' } & ChatMessage)
  | ({ op: 'ack' } & ChatMessage)
  | { op: 'history'; messages: ChatMessage[] };

/** The chat plugin's error codes. */
export const CHAT_ERRORS = defineErrors('chat', {
  CHAT_NOT_ALLOWED: 'this session may not send chat messages (it lacks the "chat" grant)',
  CHAT_BAD_REQUEST: 'the message must be {"op":"send","text":string,"to"?:string,"clientId"?:string}',
  CHAT_TEXT_EMPTY: 'the text is empty',
  CHAT_TEXT_TOO_LONG: 'the text is longer than the server allows',
  CHAT_NO_SUCH_PEER: 'the recipient is not in this room',
  CHAT_CLIENT_ID_REUSED: 'this clientId already named another message of this session; use a new one',
});

/** Checks the shape of what a client sends (the server checks the limits); CHAT_BAD_REQUEST otherwise. */
export function parseChatSend(message: JsonObject): ChatSend {
  const { op, text, to, clientId } = message;
  const id = requestRef(message, 'clientId');
  if (op !== 'send' || typeof text !== 'string' || (to !== undefined && typeof to !== 'string') || (clientId !== undefined && id === undefined)) {
    throw CHAT_ERRORS.CHAT_BAD_REQUEST();
  }
  return { op, text, to, clientId: id };
}

/** The chat channel; a request is named by its `clientId`. */
export const CHAT = jsonChannel<ChatSend, ChatServerMessage>('chat', { parse: parseChatSend, refField: 'clientId' });
