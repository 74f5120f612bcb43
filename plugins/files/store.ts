/**
 * Where stored files live: content under `<dataDir>/content/<id>` (generated ids, never the file's name),
 * metadata in the core's store (table `files_entries`, SQLite or PostgreSQL), uploads in progress under
 * `<dataDir>/tmp/`. The metadata is also kept in memory (read at start, changed only after a write
 * committed), so lookups stay synchronous. Survives a restart; at start-up it removes what a crash left
 * half-way (temporary files, content without a row, rows without content).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { MigrationStep, PluginStore } from '../../core/index.js';
import { removeDeadNodesUploads } from './dead-uploads.js';
import type { FileInfo } from './protocol.js';

/** The files plugin's table. */
export interface FilesTables {
  files_entries: Row;
}

/** The schema, append-only. Steps 1 and 2 are version 1's SQL written with the schema builder. */
export const FILES_MIGRATIONS: MigrationStep[] = [
  (db, dialect) => {
    const int64 = dialect === 'postgres' ? 'bigint' : 'integer';
    return db.schema.createTable('files_entries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('room', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('size', int64, (c) => c.notNull())
      .addColumn('sha256', 'text', (c) => c.notNull())
      .addColumn('from_id', 'text', (c) => c.notNull())
      .addColumn('from_name', 'text', (c) => c.notNull())
      .addColumn('to_id', 'text')
      .addColumn('to_name', 'text')
      .addColumn('created_at', int64, (c) => c.notNull())
      .execute();
  },
  (db) => db.schema.createIndex('files_entries_room').on('files_entries').columns(['room', 'created_at']).execute(),
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
  #store: PluginStore<FilesTables>;
  /** Every stored file by id, as the table has them (changed after each committed write). */
  #files = new Map<string, StoredFile>();

  /**
   * Opens the storage under `dataDir`: migrates the table, reads it, and removes leftovers of a crash.
   *
   * @example
   *   const store = await FileStore.open(ctx.store, ctx.dataDir);
   */
  static async open(store: PluginStore, dataDir: string, { shared = false }: { shared?: boolean } = {}): Promise<FileStore> {
    const files = new FileStore(store, dataDir, shared);
    await files.#store.migrate(FILES_MIGRATIONS);
    rmSync(files.tmpDir, { recursive: true, force: true });
    mkdirSync(files.tmpDir, { recursive: true });
    mkdirSync(files.contentDir, { recursive: true });
    for (const row of await files.#store.db.selectFrom('files_entries').selectAll().execute()) files.#files.set(row.id, fromRow(row));
    // Other nodes sharing the directory may be between moving a file in and recording it: only a server alone
    // cleans up content; a node of a cluster removes the upload folders of nodes that are gone.
    if (!shared) await files.#removeLeftovers();
    else removeDeadNodesUploads(dirname(files.tmpDir), files.tmpDir);
    return files;
  }

  /**
   * With `shared` (the nodes of a cluster share the data directory), uploads in progress go to a folder of
   * this process's own under tmp/, so that a node starting does not remove another node's.
   */
  private constructor(store: PluginStore, dataDir: string, shared: boolean) {
    this.#store = store as PluginStore<FilesTables>;
    this.contentDir = join(dataDir, 'content');
    this.tmpDir = shared ? join(dataDir, 'tmp', `${hostname()}-${process.pid}`) : join(dataDir, 'tmp');
  }

  /**
   * Reads a room's files from the table again: in a cluster, a room that comes to this node may have had
   * files added or removed on the node that hosted it before.
   */
  async refreshRoom(room: string): Promise<void> {
    const rows = await this.#store.db.selectFrom('files_entries').selectAll().where('room', '=', room).execute();
    for (const file of this.list(room)) this.#files.delete(file.id);
    for (const row of rows) this.#files.set(row.id, fromRow(row));
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
   * Moves a verified upload into the store and records it; resolves with the stored file once the record
   * committed. When the record cannot be written (a full disk, an unreachable PostgreSQL), the content is
   * removed again and the store's error is thrown.
   */
  async add(tempPath: string, file: Omit<StoredFile, 'id'>): Promise<StoredFile> {
    const stored = { ...file, id: newId() };
    await rename(tempPath, this.contentPath(stored.id));
    try {
      await this.#store.db.insertInto('files_entries').values({
        id: stored.id, room: stored.room, name: stored.name, size: stored.size, sha256: stored.sha256,
        from_id: stored.from.id, from_name: stored.from.name, to_id: stored.to?.id ?? null, to_name: stored.to?.name ?? null,
        created_at: stored.createdAt,
      }).execute();
    } catch (error) {
      await rm(this.contentPath(stored.id), { force: true });
      throw error;
    }
    this.#files.set(stored.id, stored);
    return stored;
  }

  /** The file with this id, if it exists. */
  get(id: string): StoredFile | undefined {
    return this.#files.get(id);
  }

  /** Every file of a room, oldest first. */
  list(room: string): StoredFile[] {
    return [...this.#files.values()].filter((file) => file.room === room)
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Bytes the room's stored files take. */
  roomBytes(room: string): number {
    let total = 0;
    for (const file of this.#files.values()) if (file.room === room) total += file.size;
    return total;
  }

  /** Removes a file (row, then content). */
  async remove(id: string): Promise<void> {
    await this.#store.db.deleteFrom('files_entries').where('id', '=', id).execute();
    this.#files.delete(id);
    await rm(this.contentPath(id), { force: true });
  }

  /** Files stored before `time` (ms since the epoch), for expiry. */
  olderThan(time: number): StoredFile[] {
    return [...this.#files.values()].filter((file) => file.createdAt < time);
  }

  async #removeLeftovers(): Promise<void> {
    const present = new Set(readdirSync(this.contentDir));
    for (const name of present) if (!this.#files.has(name)) rmSync(join(this.contentDir, name), { force: true });
    for (const id of [...this.#files.keys()]) {
      if (present.has(id)) continue;
      await this.#store.db.deleteFrom('files_entries').where('id', '=', id).execute();
      this.#files.delete(id);
    }
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
    size: Number(row.size),
    sha256: row.sha256,
    from: { id: row.from_id, name: row.from_name },
    createdAt: Number(row.created_at),
  };
  if (row.to_id !== null) file.to = { id: row.to_id, name: row.to_name ?? '' };
  return file;
}
