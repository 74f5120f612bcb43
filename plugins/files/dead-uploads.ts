/**
 * In a cluster, every node keeps its uploads in progress in a folder of its own under the shared
 * `<dataDir>/tmp/`, named `<host>-<pid>` (plugins/files/store.ts). A node that was killed leaves its folder
 * behind; a node that starts removes such folders:
 *
 *   - on its own machine, a folder whose process is no longer running;
 *   - from any machine, a folder in which nothing changed for STALE_UPLOADS_MS (a partial upload that old has
 *     no uploader left: an upload ends with its session).
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** A node's upload folder unchanged this long is a dead node's. */
export const STALE_UPLOADS_MS = 24 * 60 * 60 * 1000;

/** Removes the upload folders under `tmpRoot` of nodes that are gone, never `own`; returns the names removed. */
export function removeDeadNodesUploads(tmpRoot: string, own: string, now = Date.now()): string[] {
  const removed: string[] = [];
  for (const name of safeList(tmpRoot)) {
    const folder = join(tmpRoot, name);
    if (folder === own) continue;
    const node = /^(.+)-(\d+)$/.exec(name);
    if (!node) continue;
    const gone = node[1] === hostname() ? !isRunning(Number(node[2])) : now - lastChange(folder) > STALE_UPLOADS_MS;
    if (!gone) continue;
    rmSync(folder, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** True when a process with this pid runs on this machine (possibly another program that reused the pid). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The latest modification time of a folder and the files in it, ms. */
function lastChange(folder: string): number {
  let latest = statSync(folder, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  for (const name of safeList(folder)) latest = Math.max(latest, statSync(join(folder, name), { throwIfNoEntry: false })?.mtimeMs ?? 0);
  return latest;
}

function safeList(folder: string): string[] {
  try {
    return readdirSync(folder);
  } catch {
    return [];
  }
}
