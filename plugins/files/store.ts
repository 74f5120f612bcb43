/**
 * Where stored files live: content under `<dataDir>/content/<id>` (generated ids, never the file's name),
 * metadata in the core's SQLite store (table `files_entries`), uploads in progress under `<dataDir>/tmp/`.
 * Survives a restart; at start-up it removes what a crash left half-way (temporary files, content without a
 * row, rows without content).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PluginStore } from '../../core/types.js';
import type { FileInfo } from './protocol.js';

/** The schema, append-only. */
const MIGRATIONS = [
  `CREATE TABLE files_entries (
     id TEXT PRIMARY KEY, room TEXT NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,
     from_id TEXT NOT NULL, from_name TEXT NOT NULL, to_id TEXT, to_name TEXT, created_at INTEGER NOT NULL)`,
  'CREATE INDEX files_entries_room ON files_entries (room, created_at)',
];

interface Row {
  id: string;
  room: string;
  name: string;
  size: number;
  sha256: string;
  from_id: string;
  from_name: string;
  to_id: string | null;
  to_name: string | null;
  created_at: number;
}

/** A stored file with its room. */
export interface StoredFile extends FileInfo {
  room: string;
}

/** The files plugin's storage. */
export class FileStore {
  readonly contentDir: string;
  readonly tmpDir: string;
  #store: PluginStore;

  /** Opens the storage under `dataDir` and removes leftovers of a crash. */
  constructor(store: PluginStore, dataDir: string) {
    this.#store = store;
    this.contentDir = join(dataDir, 'content');
    this.tmpDir = join(dataDir, 'tmp');
    store.migrate(MIGRATIONS);
    rmSync(this.tmpDir, { recursive: true, force: true });
    mkdirSync(this.tmpDir, { recursive: true });
    mkdirSync(this.contentDir, { recursive: true });
    this.#removeLeftovers();
  }

  /** A new path for an upload in progress. */
  tempPath(): string {
    return join(this.tmpDir, `${newId()}.part`);
  }

  /** Where a stored file's content is. */
  contentPath(id: string): string {
    return join(this.contentDir, id);
  }

  /**
   * Moves a verified upload into the store and records it; returns the stored file. When the record cannot
   * be written (a full disk), the content is removed again and the store's error is thrown.
   */
  async add(tempPath: string, file: Omit<StoredFile, 'id'>): Promise<StoredFile> {
    const stored = { ...file, id: newId() };
    await rename(tempPath, this.contentPath(stored.id));
    try {
      this.#store.db
        .prepare('INSERT INTO files_entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(stored.id, stored.room, stored.name, stored.size, stored.sha256, stored.from.id, stored.from.name,
          stored.to?.id ?? null, stored.to?.name ?? null, stored.createdAt);
    } catch (error) {
      await rm(this.contentPath(stored.id), { force: true });
      throw error;
    }
    return stored;
  }

  /** The file with this id, if it exists. */
  get(id: string): StoredFile | undefined {
    const row = this.#store.db.prepare<[string], Row>('SELECT * FROM files_entries WHERE id = ?').get(id);
    return row && fromRow(row);
  }

  /** Every file of a room, oldest first. */
  list(room: string): StoredFile[] {
    return this.#store.db
      .prepare<[string], Row>('SELECT * FROM files_entries WHERE room = ? ORDER BY created_at, id')
      .all(room)
      .map(fromRow);
  }

  /** Bytes the room's stored files take. */
  roomBytes(room: string): number {
    const row = this.#store.db.prepare<[string], { total: number | null }>('SELECT SUM(size) AS total FROM files_entries WHERE room = ?').get(room);
    return row?.total ?? 0;
  }

  /** Removes a file (row, then content). */
  async remove(id: string): Promise<void> {
    this.#store.db.prepare('DELETE FROM files_entries WHERE id = ?').run(id);
    await rm(this.contentPath(id), { force: true });
  }

  /** Files stored before `time` (ms since the epoch), for expiry. */
  olderThan(time: number): StoredFile[] {
    return this.#store.db.prepare<[number], Row>('SELECT * FROM files_entries WHERE created_at < ?').all(time).map(fromRow);
  }

  #removeLeftovers(): void {
    const ids = new Set(this.#store.db.prepare<[], { id: string }>('SELECT id FROM files_entries').all().map((row) => row.id));
    const present = new Set(readdirSync(this.contentDir));
    for (const name of present) if (!ids.has(name)) rmSync(join(this.contentDir, name), { force: true });
    const missing = this.#store.db.prepare('DELETE FROM files_entries WHERE id = ?');
    for (const id of ids) if (!present.has(id)) missing.run(id);
  }
}

/** A random id: 20 lowercase hex digits (80 bits), safe as a file name everywhere and easy to type. */
function newId(): string {
  return randomBytes(10).toString('hex');
}

function fromRow(row: Row): StoredFile {
  const file: StoredFile = {
    id: row.id,
    room: row.room,
    name: row.name,
    size: row.size,
    sha256: row.sha256,
    from: { id: row.from_id, name: row.from_name },
    createdAt: row.created_at,
  };
  if (row.to_id !== null) file.to = { id: row.to_id, name: row.to_name ?? '' };
  return file;
}
