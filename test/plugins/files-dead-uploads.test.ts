/**
 * A node of a cluster removes the upload folders of nodes that are gone, on real folders: one of a process
 * of this machine that exited, one of another machine untouched for more than a day. It keeps its own, a
 * running process's, a fresh one of another machine, and anything not named like a node's folder.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { removeDeadNodesUploads, STALE_UPLOADS_MS } from '../../plugins/files/dead-uploads.js';

test('the upload folders of gone nodes are removed; the others are kept', () => {
  const root = mkdtempSync(join(tmpdir(), 'confab-dead-uploads-'));
  try {
    const exitedPid = () => Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim());
    const deadPid = exitedPid();
    const folders = {
      own: `${hostname()}-${exitedPid()}`, // named like a gone node's, but it is the caller's own

      dead: `${hostname()}-${deadPid}`,
      running: `${hostname()}-${process.pid}`,
      freshElsewhere: 'another-machine-4242',
      staleElsewhere: 'another-machine-4343',
      notANode: 'notes',
    };
    for (const name of Object.values(folders)) {
      mkdirSync(join(root, name));
      writeFileSync(join(root, name, 'abc.part'), 'partial upload');
    }
    const old = (Date.now() - STALE_UPLOADS_MS - 60_000) / 1000;
    utimesSync(join(root, folders.staleElsewhere, 'abc.part'), old, old);
    utimesSync(join(root, folders.staleElsewhere), old, old);

    const removed = removeDeadNodesUploads(root, join(root, folders.own));

    assert.equal(removed.sort(), [folders.dead, folders.staleElsewhere].sort());
    assert.equal(readdirSync(root).sort(), [folders.own, folders.running, folders.freshElsewhere, folders.notANode].sort());
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a tmp folder that does not exist yet is nothing to clean', () => {
  assert.equal(removeDeadNodesUploads(join(tmpdir(), 'confab-no-such-folder'), '/nowhere'), []);
});

test.run();
