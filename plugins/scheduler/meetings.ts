/**
 * The scheduler's meetings in the store (SQLite or PostgreSQL), so they survive a restart and a crash: each
 * change is one statement or one transaction, which the database applies whole or not at all, and each
 * method resolves once it has committed. Meetings that have ended are dropped (`dropEnded`); everything
 * else is read from the database when asked.
 */
import type { MigrationStep, PluginStore } from '../../core/index.js';
import type { Meeting } from './protocol.js';

/** The scheduler's table. */
export interface SchedulerTables {
  scheduler_meetings: {
    id: string;
    title: string;
    room: string;
    start: string;
    start_ms: number;
    end_ms: number;
    duration_minutes: number;
    description: string;
    organiser: string;
    created_at: number;
    updated_at: number;
    announced: number;
  };
}

type Row = Omit<SchedulerTables['scheduler_meetings'], 'end_ms' | 'announced'>;

/**
 * The schema, one step per version: append steps, never edit one that has shipped. Step 1 is version 1's SQL
 * written with the schema builder.
 */
export const SCHEDULER_MIGRATIONS: MigrationStep[] = [
  async (db, dialect) => {
    const int64 = dialect === 'postgres' ? 'bigint' : 'integer';
    await db.schema.createTable('scheduler_meetings')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('room', 'text', (c) => c.notNull())
      .addColumn('start', 'text', (c) => c.notNull())
      .addColumn('start_ms', int64, (c) => c.notNull())
      .addColumn('end_ms', int64, (c) => c.notNull())
      .addColumn('duration_minutes', 'integer', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('organiser', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull())
      .addColumn('announced', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('scheduler_meetings_start').on('scheduler_meetings').column('start_ms').execute();
    await db.schema.createIndex('scheduler_meetings_end').on('scheduler_meetings').column('end_ms').execute();
  },
];

const COLUMNS = ['id', 'title', 'room', 'start', 'start_ms', 'duration_minutes', 'description', 'organiser', 'created_at', 'updated_at'] as const;

/** The meetings table and its queries. */
export class MeetingStore {
  #store: PluginStore<SchedulerTables>;

  /** Wraps the plugin's store; call `migrate()` first. */
  constructor(store: PluginStore) {
    this.#store = store as PluginStore<SchedulerTables>;
  }

  /** Brings the table to the current schema. */
  migrate(): Promise<void> {
    return this.#store.migrate(SCHEDULER_MIGRATIONS);
  }

  /** Meetings that have not ended at `now`, earliest start first. */
  async upcoming(now: number): Promise<Meeting[]> {
    const rows = await this.#store.db.selectFrom('scheduler_meetings').select(COLUMNS).where('end_ms', '>', now).orderBy('start_ms').orderBy('created_at').execute();
    return rows.map(toMeeting);
  }

  /** How many meetings have not ended at `now`. */
  async countUpcoming(now: number): Promise<number> {
    const row = await this.#store.db.selectFrom('scheduler_meetings').select((eb) => eb.fn.countAll().as('count')).where('end_ms', '>', now).executeTakeFirst();
    return Number(row?.count ?? 0);
  }

  /** The meeting with this id, unless it has ended at `now`. */
  async get(id: string, now: number): Promise<Meeting | undefined> {
    const row = await this.#store.db.selectFrom('scheduler_meetings').select(COLUMNS).where('id', '=', id).where('end_ms', '>', now).executeTakeFirst();
    return row && toMeeting(row);
  }

  /** Stores a new meeting. */
  async insert(meeting: Meeting): Promise<void> {
    await this.#store.db.insertInto('scheduler_meetings').values({ ...toRow(meeting), end_ms: endOf(meeting), announced: 0 }).execute();
  }

  /** Stores a changed meeting; a moved start makes it due for a `started` notice again. */
  async update(meeting: Meeting, startMoved: boolean): Promise<void> {
    const { id, organiser: _organiser, created_at: _created, ...fields } = toRow(meeting);
    await this.#store.db.updateTable('scheduler_meetings')
      .set({ ...fields, end_ms: endOf(meeting), ...(startMoved ? { announced: 0 } : {}) })
      .where('id', '=', id)
      .execute();
  }

  /** Deletes a meeting. */
  async remove(id: string): Promise<void> {
    await this.#store.db.deleteFrom('scheduler_meetings').where('id', '=', id).execute();
  }

  /** The earliest start of a meeting not yet announced and not ended at `now`, or undefined. */
  async nextStart(now: number): Promise<number | undefined> {
    const row = await this.#store.db.selectFrom('scheduler_meetings').select((eb) => eb.fn.min('start_ms').as('next'))
      .where('announced', '=', 0).where('end_ms', '>', now).executeTakeFirst();
    return row?.next === null || row?.next === undefined ? undefined : Number(row.next);
  }

  /**
   * The meetings that have started by `now`, have not ended and were not announced yet, marked announced
   * in the same transaction: each is announced once, even across restarts and by one node of a cluster.
   */
  takeDue(now: number): Promise<Meeting[]> {
    return this.#store.db.transaction().execute(async (trx) => {
      const due = (await trx.selectFrom('scheduler_meetings').select(COLUMNS)
        .where('announced', '=', 0).where('start_ms', '<=', now).where('end_ms', '>', now).orderBy('start_ms').execute()).map(toMeeting);
      // One row at a time, still unannounced: of two nodes taking the same meeting at once, the second
      // updates nothing (it waits for the first's row lock, then sees announced = 1) and does not announce it.
      const taken: Meeting[] = [];
      for (const meeting of due) {
        const result = await trx.updateTable('scheduler_meetings').set({ announced: 1 }).where('id', '=', meeting.id).where('announced', '=', 0).executeTakeFirst();
        if (Number(result.numUpdatedRows) === 1) taken.push(meeting);
      }
      return taken;
    });
  }

  /** Deletes the meetings that have ended by `now`; returns how many. */
  async dropEnded(now: number): Promise<number> {
    const result = await this.#store.db.deleteFrom('scheduler_meetings').where('end_ms', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/** When a meeting ends, in ms since the epoch. */
export function endOf(meeting: Pick<Meeting, 'startMs' | 'durationMinutes'>): number {
  return meeting.startMs + meeting.durationMinutes * 60_000;
}

function toMeeting(row: Row): Meeting {
  return {
    id: row.id,
    title: row.title,
    room: row.room,
    start: row.start,
    startMs: Number(row.start_ms),
    durationMinutes: Number(row.duration_minutes),
    description: row.description,
    organiser: row.organiser,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toRow(meeting: Meeting): Row {
  return {
    id: meeting.id,
    title: meeting.title,
    room: meeting.room,
    start: meeting.start,
    start_ms: meeting.startMs,
    duration_minutes: meeting.durationMinutes,
    description: meeting.description,
    organiser: meeting.organiser,
    created_at: meeting.createdAt,
    updated_at: meeting.updatedAt,
  };
}
