/**
 * The chat plugin's messages, shared by its server and client halves. One json channel, `chat`.
 *
 * client → server  {"op":"send","text":"hi","to"?:"<session id>","clientId"?:"c1"}
 * server → others  {"op":"message", …ChatMessage}
 * server → sender  {"op":"ack", …ChatMessage}            (the stored message, with the sender's clientId)
 * server → joiner  {"op":"history","messages":[ChatMessage…]}   (oldest first)
 * errors           ERROR frames with "channel":"chat" and "ref": the clientId (codes in CHAT_ERRORS)
 */

/** The channel name. */
export const CHAT_CHANNEL = 'chat';

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

/** What a client sends. */
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
export const CHAT_ERRORS = {
  CHAT_NOT_ALLOWED: 'this session may not send chat messages (it lacks the "chat" grant)',
  CHAT_BAD_REQUEST: 'the message must be {"op":"send","text":string,"to"?:string,"clientId"?:string}',
  CHAT_TEXT_EMPTY: 'the text is empty',
  CHAT_TEXT_TOO_LONG: 'the text is longer than the server allows',
  CHAT_NO_SUCH_PEER: 'the recipient is not in this room',
  CHAT_CLIENT_ID_REUSED: 'this clientId already named another message of this session; use a new one',
} as const;

/** Longest clientId accepted. */
export const MAX_CLIENT_ID_LENGTH = 64;
