/**
 * The terminal client's /upload and /download: a transfer row in the files panel with progress, a notice
 * when it starts and when it is done (naming the path actually written), and any failure in the error line
 * in words about the file (never an internal `.part` name).
 */
import { basename, resolve } from 'node:path';
import type { BotClient } from '../../bots/clients.js';
import { isConfabError } from '../../core/errors.js';
import type { FileInfo } from '../../plugins/files/client-node.js';
import { downloadTarget, expandHome } from '../download-target.js';
import { formatBytes } from '../progress.js';
import type { JoinState } from './state.js';

/** Shares the file at `path` (`~` expanded) with the room, or with the participant `to` (an id). */
export async function upload(bot: BotClient, state: JoinState, path: string, to: { id: string; name: string } | undefined, changed: () => void): Promise<void> {
  const full = resolve(expandHome(path));
  const name = basename(full);
  const view = state.addTransfer({ kind: 'upload', name, done: 0, total: 0, status: 'running' });
  state.notice(`sharing ${name}${to ? ` with ${to.name}` : ''}…`);
  const transfer = bot.files.upload(full, to ? { to: to.id } : {});
  transfer.on('progress', ({ sent, total }) => {
    view.done = sent;
    view.total = total;
    state.touch();
    changed();
  });
  try {
    const file = await transfer.done;
    view.status = 'done';
    view.done = view.total = file.size;
    state.addFile(file);
    state.notice(`shared ${file.name} (${formatBytes(file.size)})`);
  } catch (error) {
    view.status = 'failed';
    state.error(`could not share ${name}: ${reason(error)}`);
  }
  state.touch();
}

/** Downloads `file` into `out` (a directory, default the current one, or a new file's path). */
export async function download(bot: BotClient, state: JoinState, file: FileInfo, out: string | undefined, changed: () => void): Promise<void> {
  let target: string;
  try {
    target = await downloadTarget(out ?? '.', file.name, { option: 'the path after /download N' });
  } catch (error) {
    return state.error(`could not download ${file.name}: ${reason(error)}`);
  }
  const view = state.addTransfer({ kind: 'download', name: file.name, done: 0, total: file.size, status: 'running' });
  const transfer = bot.files.download(file.id, target);
  transfer.on('progress', ({ received, total }) => {
    view.done = received;
    view.total = total;
    state.touch();
    changed();
  });
  try {
    await transfer.done;
    view.status = 'done';
    view.done = view.total;
    state.notice(`saved ${file.name} to ${target}`);
  } catch (error) {
    view.status = 'failed';
    state.error(`could not download ${file.name}: ${reason(error)}`);
  }
  state.touch();
}

/** An error in words: the code's message, without file-system detail about internal paths. */
export function reason(error: unknown): string {
  if (!isConfabError(error)) return error instanceof Error ? error.message : String(error);
  // The files client names its `<path>.<hash>.part` working file: name the file it becomes instead; and
  // Node repeats the path after its errno text (", open '…'").
  const message = error.message.replace(/\.[0-9a-f]{12}\.part\b/g, '').replace(/, \w+ '[^']*'$/, '');
  return `${message} (${error.code})`;
}
