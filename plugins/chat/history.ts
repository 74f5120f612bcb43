/**
 * Chat history: the last `limit` messages of each room, in the store (so they survive a restart) and in
 * memory for the rooms that exist (so a join does not read the database). The database keeps exactly what
 * memory keeps: each insert beyond the limit deletes the oldest row of that room, in one transaction.
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
}

/** One room's recent messages, oldest first, with their row numbers in the store. */
export interface RoomHistory {
  readonly room: string;
  readonly messages: ChatMessage[];
  readonly seqs: number[];
}

/** The per-room message history of the chat plugin. */
export class ChatHistory {
  readonly limit: number;
  #db: Database;
  #insert: Statement;
  #deleteUpTo: Statement;
  #latest: Statement;
  #append: (history: RoomHistory, message: ChatMessage) => void;

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
    ]);
    this.#db = store.db;
    this.#insert = this.#db.prepare(
      'INSERT INTO chat_messages (id, room, from_id, from_name, to_id, to_name, text, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.#deleteUpTo = this.#db.prepare('DELETE FROM chat_messages WHERE room = ? AND seq <= ?');
    this.#latest = this.#db.prepare(
      'SELECT seq, id, from_id, from_name, to_id, to_name, text, ts FROM chat_messages WHERE room = ? ORDER BY seq DESC LIMIT ?');
    this.#append = this.#db.transaction((history: RoomHistory, message: ChatMessage) => {
      const { lastInsertRowid } = this.#insert.run(message.id, history.room, message.from.id, message.from.name,
        message.to?.id ?? null, message.to?.name ?? null, message.text, message.ts);
      history.messages.push(message);
      history.seqs.push(Number(lastInsertRowid));
      if (history.messages.length > this.limit) {
        history.messages.shift();
        this.#deleteUpTo.run(history.room, history.seqs.shift());
      }
    });
  }

  /** Reads a room's history from the store (when the room is created), dropping rows beyond the limit. */
  load(room: string): RoomHistory {
    const rows = (this.#latest.all(room, this.limit) as Row[]).reverse();
    if (rows.length > 0) this.#deleteUpTo.run(room, rows[0].seq - 1);
    return { room, messages: rows.map(toMessage), seqs: rows.map((row) => row.seq) };
  }

  /** Stores a message in the room's history, forgetting the oldest beyond the limit. */
  add(history: RoomHistory, message: ChatMessage): void {
    if (this.limit > 0) this.#append(history, message);
  }
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
