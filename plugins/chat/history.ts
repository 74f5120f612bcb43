/**
 * Chat history: the last `limit` messages of each room, in the store (so they survive a restart) and in
 * memory for the rooms that exist (so a join does not read the database). The database keeps exactly what
 * memory keeps: each insert beyond the limit deletes the oldest row of that room, in one transaction.
 * Each message keeps its sender's clientId, so a client that re-sends after a server restart (it never got
 * the ack) finds its message stored already.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { PluginStore } from '../../core/index.js';
import type { ChatMessage } from './protocol.js';

interface Row {
  seq: number;
  id: string;
  from_id: string;
  from_name: string;
  to_id: string | null;
  to_name: string | null;
  text: string;
  ts: number;
  client_id: string | null;
}

/** One room's recent messages, oldest first, with their row numbers in the store. */
export interface RoomHistory {
  readonly room: string;
  readonly messages: ChatMessage[];
  readonly seqs: number[];
  /** The senders' clientIds, beside `messages` (null for a message sent without one). */
  readonly clientIds: Array<string | null>;
  /** The messages by their sender's clientId. */
  readonly byClientId: Map<string, ChatMessage>;
}

/** The per-room message history of the chat plugin. */
export class ChatHistory {
  readonly limit: number;
  #db: Database;
  #insert: Statement;
  #deleteUpTo: Statement;
  #latest: Statement;
  #append: (history: RoomHistory, message: ChatMessage, clientId: string | null) => void;

  constructor(store: PluginStore, limit: number) {
    this.limit = limit;
    store.migrate([
      `CREATE TABLE chat_messages (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         id TEXT NOT NULL UNIQUE,
         room TEXT NOT NULL,
         from_id TEXT NOT NULL,
         from_name TEXT NOT NULL,
         to_id TEXT,
         to_name TEXT,
         text TEXT NOT NULL,
         ts INTEGER NOT NULL
       );
       CREATE INDEX chat_messages_room ON chat_messages (room, seq);`,
      'ALTER TABLE chat_messages ADD COLUMN client_id TEXT',
    ]);
    this.#db = store.db;
    this.#insert = this.#db.prepare(
      'INSERT INTO chat_messages (id, room, from_id, from_name, to_id, to_name, text, ts, client_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    this.#deleteUpTo = this.#db.prepare('DELETE FROM chat_messages WHERE room = ? AND seq <= ?');
    this.#latest = this.#db.prepare(
      'SELECT seq, id, from_id, from_name, to_id, to_name, text, ts, client_id FROM chat_messages WHERE room = ? ORDER BY seq DESC LIMIT ?');
    // Memory changes only once both statements succeeded: a write that fails (a full disk) rolls back and
    // leaves the room's history as it was.
    this.#append = this.#db.transaction((history: RoomHistory, message: ChatMessage, clientId: string | null) => {
      const { lastInsertRowid } = this.#insert.run(message.id, history.room, message.from.id, message.from.name,
        message.to?.id ?? null, message.to?.name ?? null, message.text, message.ts, clientId);
      const full = history.messages.length + 1 > this.limit;
      if (full) this.#deleteUpTo.run(history.room, history.seqs[0]);
      history.messages.push(message);
      history.seqs.push(Number(lastInsertRowid));
      history.clientIds.push(clientId);
      if (clientId !== null) history.byClientId.set(clientId, message);
      if (full) {
        const oldest = history.messages.shift();
        const oldestClientId = history.clientIds.shift();
        if (oldestClientId && history.byClientId.get(oldestClientId) === oldest) history.byClientId.delete(oldestClientId);
        history.seqs.shift();
      }
    });
  }

  /** Reads a room's history from the store (when the room is created), dropping rows beyond the limit. */
  load(room: string): RoomHistory {
    const rows = (this.#latest.all(room, this.limit) as Row[]).reverse();
    if (rows.length > 0) this.#deleteUpTo.run(room, rows[0].seq - 1);
    const messages = rows.map(toMessage);
    const byClientId = new Map<string, ChatMessage>();
    for (const [i, row] of rows.entries()) if (row.client_id !== null) byClientId.set(row.client_id, messages[i]!);
    return { room, messages, seqs: rows.map((row) => row.seq), clientIds: rows.map((row) => row.client_id), byClientId };
  }

  /** Stores a message (with its sender's clientId, if any) in the room's history, forgetting the oldest beyond the limit. */
  add(history: RoomHistory, message: ChatMessage, clientId?: string): void {
    if (this.limit > 0) this.#append(history, message, clientId ?? null);
  }
}

/**
 * The message of the room's history that `sender` sent with `clientId` in an earlier session (its
 * sender's name, text and recipient's name match), or undefined: a re-send after a server restart.
 */
export function sentEarlier(history: RoomHistory, clientId: string, sender: string, text: string, to: string | undefined): ChatMessage | undefined {
  const message = history.byClientId.get(clientId);
  return message && message.from.name === sender && message.text === text && message.to?.name === to ? message : undefined;
}

/**
 * The messages one session may see, oldest first: room-wide ones, and private ones only when the session
 * sent or received them.
 */
export function visibleTo(history: RoomHistory, sessionId: string): ChatMessage[] {
  return history.messages.filter((m) => m.to === undefined || m.from.id === sessionId || m.to.id === sessionId);
}

function toMessage(row: Row): ChatMessage {
  const message: ChatMessage = { id: row.id, from: { id: row.from_id, name: row.from_name }, text: row.text, ts: row.ts };
  if (row.to_id !== null) message.to = { id: row.to_id, name: row.to_name ?? '' };
  return message;
}
