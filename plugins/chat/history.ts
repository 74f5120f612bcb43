/**
 * Chat history in the store: the last `limit` messages of each room, kept across restarts.
 */
import type { Statement } from 'better-sqlite3';
import type { PluginStore } from '../../core/index.js';
import type { ChatMessage } from './protocol.js';

interface Row {
  id: string;
  from_id: string;
  from_name: string;
  to_id: string | null;
  to_name: string | null;
  text: string;
  ts: number;
}

/** The per-room message history of the chat plugin. */
export class ChatHistory {
  readonly limit: number;
  #insert: Statement;
  #trim: Statement;
  #visible: Statement;

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
    const db = store.db;
    this.#insert = db.prepare(
      'INSERT INTO chat_messages (id, room, from_id, from_name, to_id, to_name, text, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.#trim = db.prepare(
      `DELETE FROM chat_messages WHERE room = ? AND seq <= (
         SELECT seq FROM chat_messages WHERE room = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`);
    this.#visible = db.prepare(
      `SELECT id, from_id, from_name, to_id, to_name, text, ts FROM (
         SELECT * FROM chat_messages WHERE room = ? ORDER BY seq DESC LIMIT ?)
       WHERE to_id IS NULL OR from_id = ? OR to_id = ? ORDER BY seq`);
  }

  /** Stores a message and forgets the room's messages beyond the limit. */
  add(room: string, message: ChatMessage): void {
    if (this.limit === 0) return;
    this.#insert.run(message.id, room, message.from.id, message.from.name, message.to?.id ?? null, message.to?.name ?? null, message.text, message.ts);
    this.#trim.run(room, room, this.limit);
  }

  /**
   * The room's history as one session may see it, oldest first: room-wide messages, and private ones only
   * when the session sent or received them.
   */
  visibleTo(room: string, sessionId: string): ChatMessage[] {
    const rows = this.#visible.all(room, this.limit, sessionId, sessionId) as Row[];
    return rows.map((row) => {
      const message: ChatMessage = { id: row.id, from: { id: row.from_id, name: row.from_name }, text: row.text, ts: row.ts };
      if (row.to_id !== null) message.to = { id: row.to_id, name: row.to_name ?? '' };
      return message;
    });
  }
}
