/**
 * The scheduler's meetings in the embedded store (SQLite), so they survive a restart and a crash: each
 * change is one statement or one transaction, which SQLite applies whole or not at all.
 * Meetings that have ended are dropped (`dropEnded`); everything else is read from the database when asked.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { PluginStore } from '../../core/index.js';
import type { Meeting } from './protocol.js';

interface Row {
  id: string;
  title: string;
  room: string;
  start: string;
  start_ms: number;
  duration_minutes: number;
  description: string;
  organiser: string;
  created_at: number;
  updated_at: number;
}

/** The schema, one step per version: append steps, never edit one that has shipped. */
const MIGRATIONS = [
  `CREATE TABLE scheduler_meetings (
     id TEXT PRIMARY KEY,
     title TEXT NOT NULL,
     room TEXT NOT NULL,
     start TEXT NOT NULL,
     start_ms INTEGER NOT NULL,
     end_ms INTEGER NOT NULL,
     duration_minutes INTEGER NOT NULL,
     description TEXT NOT NULL,
     organiser TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     announced INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX scheduler_meetings_start ON scheduler_meetings (start_ms);
   CREATE INDEX scheduler_meetings_end ON scheduler_meetings (end_ms);`,
];

const COLUMNS = 'id, title, room, start, start_ms, duration_minutes, description, organiser, created_at, updated_at';

/** The meetings table and its queries. */
export class MeetingStore {
  #db: Database;
  #insert: Statement;
  #update: Statement;
  #delete: Statement;
  #byId: Statement;
  #upcoming: Statement;
  #countUpcoming: Statement;
  #nextUnannounced: Statement;
  #due: Statement;
  #markAnnounced: Statement;
  #dropEnded: Statement;
  #takeDue: (now: number) => Meeting[];

  /** Migrates the schema and prepares the statements. */
  constructor(store: PluginStore) {
    store.migrate(MIGRATIONS);
    this.#db = store.db;
    this.#insert = this.#db.prepare(
      `INSERT INTO scheduler_meetings (${COLUMNS}, end_ms) VALUES (@id, @title, @room, @start, @startMs, @durationMinutes, @description, @organiser, @createdAt, @updatedAt, @endMs)`);
    this.#update = this.#db.prepare(
      `UPDATE scheduler_meetings SET title = @title, room = @room, start = @start, start_ms = @startMs, end_ms = @endMs,
         duration_minutes = @durationMinutes, description = @description, updated_at = @updatedAt,
         announced = CASE WHEN @startMoved THEN 0 ELSE announced END
       WHERE id = @id`);
    this.#delete = this.#db.prepare('DELETE FROM scheduler_meetings WHERE id = ?');
    this.#byId = this.#db.prepare(`SELECT ${COLUMNS} FROM scheduler_meetings WHERE id = ? AND end_ms > ?`);
    this.#upcoming = this.#db.prepare(`SELECT ${COLUMNS} FROM scheduler_meetings WHERE end_ms > ? ORDER BY start_ms, created_at`);
    this.#countUpcoming = this.#db.prepare('SELECT COUNT(*) AS count FROM scheduler_meetings WHERE end_ms > ?');
    this.#nextUnannounced = this.#db.prepare('SELECT MIN(start_ms) AS next FROM scheduler_meetings WHERE announced = 0 AND end_ms > ?');
    this.#due = this.#db.prepare(
      `SELECT ${COLUMNS} FROM scheduler_meetings WHERE announced = 0 AND start_ms <= ? AND end_ms > ? ORDER BY start_ms`);
    this.#markAnnounced = this.#db.prepare('UPDATE scheduler_meetings SET announced = 1 WHERE id = ?');
    this.#dropEnded = this.#db.prepare('DELETE FROM scheduler_meetings WHERE end_ms <= ?');
    this.#takeDue = this.#db.transaction((now: number) => {
      const due = (this.#due.all(now, now) as Row[]).map(toMeeting);
      for (const meeting of due) this.#markAnnounced.run(meeting.id);
      return due;
    });
  }

  /** Meetings that have not ended at `now`, earliest start first. */
  upcoming(now: number): Meeting[] {
    return (this.#upcoming.all(now) as Row[]).map(toMeeting);
  }

  /** How many meetings have not ended at `now`. */
  countUpcoming(now: number): number {
    return (this.#countUpcoming.get(now) as { count: number }).count;
  }

  /** The meeting with this id, unless it has ended at `now`. */
  get(id: string, now: number): Meeting | undefined {
    const row = this.#byId.get(id, now) as Row | undefined;
    return row && toMeeting(row);
  }

  /** Stores a new meeting. */
  insert(meeting: Meeting): void {
    this.#insert.run({ ...meeting, endMs: endOf(meeting) });
  }

  /** Stores a changed meeting; a moved start makes it due for a `started` notice again. */
  update(meeting: Meeting, startMoved: boolean): void {
    this.#update.run({ ...meeting, endMs: endOf(meeting), startMoved: startMoved ? 1 : 0 });
  }

  /** Deletes a meeting. */
  remove(id: string): void {
    this.#delete.run(id);
  }

  /** The earliest start of a meeting not yet announced and not ended at `now`, or undefined. */
  nextStart(now: number): number | undefined {
    return (this.#nextUnannounced.get(now) as { next: number | null }).next ?? undefined;
  }

  /**
   * The meetings that have started by `now`, have not ended and were not announced yet, marked announced
   * in the same transaction: each is announced once, even across restarts.
   */
  takeDue(now: number): Meeting[] {
    return this.#takeDue(now);
  }

  /** Deletes the meetings that have ended by `now`; returns how many. */
  dropEnded(now: number): number {
    return this.#dropEnded.run(now).changes;
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
    startMs: row.start_ms,
    durationMinutes: row.duration_minutes,
    description: row.description,
    organiser: row.organiser,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
