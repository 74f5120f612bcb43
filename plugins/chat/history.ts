/**
 * Chat history: the last `limit` messages of each room, in the store (so they survive a restart) and in
 * memory for the rooms that exist (so a join does not read the database). The database keeps exactly what
 * memory keeps: each insert beyond the limit deletes the oldest row of that room, in one transaction.
 * Each message keeps its sender's clientId, so a client that re-sends after a server restart (it never got
 * the ack) finds its message stored already.
 */
import type { Generated } from 'kysely';
import type { MigrationStep, PluginStore } from '../../core/index.js';
import type { ChatMessage } from './protocol.js';

/** The chat plugin's tables. */
export interface ChatTables {
  chat_messages: {
    seq: Generated<number>;
    id: string;
    room: string;
    from_id: string;
    from_name: string;
    to_id: string | null;
    to_name: string | null;
    text: string;
    ts: number;
    client_id: string | null;
  };
}

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

/**
 * The schema, one step per version (append only). Steps 1 and 2 are the SQL of version 1 of the store,
 * written with the schema builder: the same tables on SQLite, their equivalent on PostgreSQL.
 */
export const CHAT_MIGRATIONS: MigrationStep[] = [
  async (db, dialect) => {
    await db.schema.createTable('chat_messages')
      .addColumn('seq', dialect === 'postgres' ? 'bigserial' : 'integer', (c) => dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement())
      .addColumn('id', 'text', (c) => c.notNull().unique())
      .addColumn('room', 'text', (c) => c.notNull())
      .addColumn('from_id', 'text', (c) => c.notNull())
      .addColumn('from_name', 'text', (c) => c.notNull())
      .addColumn('to_id', 'text')
      .addColumn('to_name', 'text')
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('ts', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('chat_messages_room').on('chat_messages').columns(['room', 'seq']).execute();
  },
  (db) => db.schema.alterTable('chat_messages').addColumn('client_id', 'text').execute(),
];

const COLUMNS = ['seq', 'id', 'from_id', 'from_name', 'to_id', 'to_name', 'text', 'ts', 'client_id'] as const;

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

/**
 * The per-room message history of the chat plugin. Its writes are async: the caller runs one room's
 * `add`s one after the other (the plugin chains them per room), so memory follows the store in order.
 */
export class ChatHistory {
  readonly limit: number;
  #store: PluginStore<ChatTables>;

  /** Wraps the plugin's store; call `migrate()` before the first `load`. */
  constructor(store: PluginStore, limit: number) {
    this.limit = limit;
    this.#store = store as PluginStore<ChatTables>;
  }

  /** Brings the chat tables to the current schema. */
  migrate(): Promise<void> {
    return this.#store.migrate(CHAT_MIGRATIONS);
  }

  /** Reads a room's history from the store (when the room is created), dropping rows beyond the limit. */
  async load(room: string): Promise<RoomHistory> {
    const db = this.#store.db;
    const rows = this.limit === 0
      ? []
      : (await db.selectFrom('chat_messages').select(COLUMNS).where('room', '=', room).orderBy('seq', 'desc').limit(this.limit).execute() as Row[]).reverse();
    if (rows.length > 0) await db.deleteFrom('chat_messages').where('room', '=', room).where('seq', '<', Number(rows[0]!.seq)).execute();
    const messages = rows.map(toMessage);
    const byClientId = new Map<string, ChatMessage>();
    for (const [i, row] of rows.entries()) if (row.client_id !== null) byClientId.set(row.client_id, messages[i]!);
    return { room, messages, seqs: rows.map((row) => Number(row.seq)), clientIds: rows.map((row) => row.client_id), byClientId };
  }

  /**
   * Stores a message (with its sender's clientId, if any) in the room's history, forgetting the oldest beyond
   * the limit, in one transaction; resolves once committed. Memory changes only then: a write that fails (a
   * full disk, an unreachable PostgreSQL) rolls back and leaves the room's history as it was.
   */
  async add(history: RoomHistory, message: ChatMessage, clientId?: string): Promise<void> {
    if (this.limit === 0) return;
    const full = history.messages.length + 1 > this.limit;
    const seq = await this.#store.db.transaction().execute(async (trx) => {
      const inserted = await trx.insertInto('chat_messages').values({
        id: message.id, room: history.room, from_id: message.from.id, from_name: message.from.name,
        to_id: message.to?.id ?? null, to_name: message.to?.name ?? null, text: message.text, ts: message.ts, client_id: clientId ?? null,
      }).returning('seq').executeTakeFirstOrThrow();
      if (full) await trx.deleteFrom('chat_messages').where('room', '=', history.room).where('seq', '<=', history.seqs[0]!).execute();
      return Number(inserted.seq);
    });
    history.messages.push(message);
    history.seqs.push(seq);
    history.clientIds.push(clientId ?? null);
    if (clientId !== undefined) history.byClientId.set(clientId, message);
    if (full) {
      const oldest = history.messages.shift();
      const oldestClientId = history.clientIds.shift();
      if (oldestClientId && history.byClientId.get(oldestClientId) === oldest) history.byClientId.delete(oldestClientId);
      history.seqs.shift();
    }
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
  const message: ChatMessage = { id: row.id, from: { id: row.from_id, name: row.from_name }, text: row.text, ts: Number(row.ts) };
  if (row.to_id !== null) message.to = { id: row.to_id, name: row.to_name ?? '' };
  return message;
}
