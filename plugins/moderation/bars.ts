/**
 * The moderation plugin's bars: who a moderator removed from a room, refused there until the bar expires.
 * They are kept in the core's store (table `moderation_bars`), so they outlive a restart and, in a cluster,
 * follow the room to whichever node hosts it next; each node also keeps the bars of the rooms it was asked
 * about in memory.
 *
 * A room lives on one node at a time, so only that node adds bars to it: a node reads a room's bars from the
 * store the first time a HELLO asks for the room, and forgets them when the room is disposed there (another
 * node may host it, and bar people, before it comes back).
 *
 *   const bars = new Bars(ctx.store);
 *   await bars.migrate();
 *   await bars.add('lab1', { name: 'mallory', jti: undefined, untilMs: Date.now() + 3_600_000 });
 *   (await bars.of('lab1')).some((bar) => bar.name === 'mallory'); // true, on any node, after a restart too
 */
import { randomBytes } from 'node:crypto';
import type { MigrationStep, PluginStore } from '../../core/index.js';

/** A removed participant, barred from a room until `untilMs`: by name, and by token id when it had one. */
export interface Bar {
  name: string;
  jti: string | undefined;
  untilMs: number;
}

/** The moderation plugin's table. */
export interface ModerationTables {
  moderation_bars: BarRow;
}

interface BarRow {
  id: string;
  room: string;
  name: string;
  jti: string | null;
  until_ms: number;
}

/** The schema, append-only. */
export const MODERATION_MIGRATIONS: MigrationStep[] = [
  (db, dialect) => db.schema.createTable('moderation_bars')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('room', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('jti', 'text')
    .addColumn('until_ms', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
    .execute(),
  (db) => db.schema.createIndex('moderation_bars_room').on('moderation_bars').columns(['room', 'until_ms']).execute(),
];

/** Bars kept per room at most (the oldest go first), so a moderator script cannot grow memory or the table. */
export const MAX_BARS_PER_ROOM = 1000;

/**
 * Rooms whose bars are kept in memory at most: HELLOs for ever new room names cannot grow memory. The room
 * asked about least recently is forgotten first, and read from the store again when it is asked about.
 */
const MAX_ROOMS_IN_MEMORY = 10_000;

/** The bars of every room, in the store and, for the rooms asked about here, in memory. */
export class Bars {
  readonly #store: PluginStore<ModerationTables>;
  /** The bars of the rooms read from the store here, in the order the rooms were last asked about. */
  readonly #memory = new Map<string, Bar[]>();
  /** Reads from the store under way, by room. */
  readonly #reading = new Map<string, Promise<Bar[]>>();
  /** Bars added here to a room whose bars could not be read: kept until they are. */
  readonly #unread = new Map<string, Bar[]>();

  /** Wraps the plugin's store; call `migrate()` first. */
  constructor(store: PluginStore) {
    this.#store = store as PluginStore<ModerationTables>;
  }

  /** Brings the table to the current schema. */
  migrate(): Promise<void> {
    return this.#store.migrate(MODERATION_MIGRATIONS);
  }

  /**
   * The room's bars that have not expired: from memory, or read from the store the first time (expired rows
   * are deleted then). Rejects when the store cannot be read; the next call tries again.
   */
  async of(room: string): Promise<Bar[]> {
    let list = this.#memory.get(room);
    if (list) {
      this.#memory.delete(room); // set again below, as the room asked about last
    } else {
      let reading = this.#reading.get(room);
      if (!reading) {
        reading = this.#read(room).finally(() => this.#reading.delete(room));
        this.#reading.set(room, reading);
      }
      const read = await reading;
      list = this.#memory.get(room) ?? [...read, ...(this.#unread.get(room) ?? [])];
      this.#unread.delete(room);
      this.#memory.delete(room);
      const oldest = this.#memory.keys().next();
      if (this.#memory.size >= MAX_ROOMS_IN_MEMORY && !oldest.done) this.#memory.delete(oldest.value);
    }
    const now = Date.now();
    const live = list.filter((bar) => bar.untilMs > now);
    this.#memory.set(room, live);
    return live;
  }

  /** The room's bars this node has in memory, without asking the store. */
  known(room: string): Bar[] {
    const now = Date.now();
    return [...(this.#memory.get(room) ?? []), ...(this.#unread.get(room) ?? [])].filter((bar) => bar.untilMs > now);
  }

  /**
   * Bars someone from a room: in memory at once (the room is hosted here), then in the store; resolves once
   * the row committed, and rejects when it could not be written (the bar then holds only on this node).
   */
  async add(room: string, bar: Bar): Promise<void> {
    const memory = this.#memory.get(room);
    const list = memory ?? this.#unread.get(room) ?? [];
    if (!memory) this.#unread.set(room, list);
    list.push(bar);
    if (list.length > MAX_BARS_PER_ROOM) list.splice(0, list.length - MAX_BARS_PER_ROOM);
    await this.#store.db.transaction().execute(async (trx) => {
      await trx.insertInto('moderation_bars')
        .values({ id: randomBytes(9).toString('base64url'), room, name: bar.name, jti: bar.jti ?? null, until_ms: bar.untilMs })
        .execute();
      const newest = trx.selectFrom('moderation_bars').select('id').where('room', '=', room).orderBy('until_ms', 'desc').limit(MAX_BARS_PER_ROOM);
      await trx.deleteFrom('moderation_bars').where('room', '=', room).where('id', 'not in', newest).execute();
    });
  }

  /** Forgets a room's bars in memory: the room left this node. */
  forget(room: string): void {
    this.#memory.delete(room);
  }

  async #read(room: string): Promise<Bar[]> {
    const db = this.#store.db;
    await db.deleteFrom('moderation_bars').where('room', '=', room).where('until_ms', '<=', Date.now()).execute();
    const rows = await db.selectFrom('moderation_bars').selectAll().where('room', '=', room)
      .orderBy('until_ms', 'desc').limit(MAX_BARS_PER_ROOM).execute();
    return rows.reverse().map((row) => ({ name: row.name, jti: row.jti ?? undefined, untilMs: Number(row.until_ms) }));
  }
}
