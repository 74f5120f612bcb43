/**
 * The Files tab: share a file with the room or one participant (with a progress bar), the list of shared
 * files with their sizes, and downloads (kept in memory, hash-checked by the files plugin, then saved
 * through a download link).
 */
import type { FileInfo, FilesApi, FileSink } from '../../plugins/files/client.js';
import type { Peer } from '../../core/client/browser.js';
import { byId, formatBytes, formatTime, h } from '../dom.js';

/** The Files tab, bound to one files client half. */
export class FilesPanel {
  readonly #files: FilesApi;
  readonly #list = byId<HTMLUListElement>('files');
  readonly #transfers = byId<HTMLUListElement>('transfers');
  readonly #to = byId<HTMLSelectElement>('file-to');
  readonly #input = byId<HTMLInputElement>('file-input');
  readonly #error = byId('files-error');
  readonly #known = new Map<string, FileInfo>();

  constructor(files: FilesApi, signal: AbortSignal) {
    this.#files = files;
    files.on('file', (file) => this.#addFile(file));
    files.on('removed', ({ id }) => {
      this.#known.delete(id);
      this.#list.querySelector(`[data-file="${CSS.escape(id)}"]`)?.remove();
    });
    byId<HTMLFormElement>('upload').addEventListener('submit', (event) => {
      event.preventDefault();
      const file = this.#input.files?.[0];
      if (file) this.#upload(file);
    }, { signal });
    this.#list.replaceChildren();
    this.#transfers.replaceChildren();
    this.#error.textContent = '';
  }

  /** Loads the room's files (after joining). */
  async refresh(): Promise<void> {
    try {
      for (const file of await this.#files.list()) this.#addFile(file);
    } catch (error) {
      this.#error.textContent = `Could not list files: ${(error as Error).message}`;
    }
  }

  /** Updates the recipient picker. */
  setPeers(peers: Peer[]): void {
    const selected = this.#to.value;
    this.#to.replaceChildren(new Option('Everyone', ''), ...peers.map((peer) => new Option(peer.name, peer.id)));
    this.#to.value = peers.some((peer) => peer.id === selected) ? selected : '';
  }

  #upload(file: File): void {
    this.#error.textContent = '';
    const transfer = this.#files.upload(file, this.#to.value ? { to: this.#to.value } : {});
    const row = this.#progressRow(`Uploading ${file.name}`, file.size, () => transfer.cancel());
    transfer.on('progress', ({ sent, total }) => row.update(sent, total));
    this.#input.value = '';
    transfer.done.then(
      (stored) => {
        row.remove();
        this.#addFile(stored);
      },
      (error: Error) => {
        row.remove();
        this.#error.textContent = `${file.name} was not shared: ${error.message}`;
      },
    );
  }

  #download(file: FileInfo): void {
    this.#error.textContent = '';
    const chunks: Uint8Array[] = [];
    const sink: FileSink = {
      write: async (bytes) => void chunks.push(bytes.slice()),
      close: async () => saveAs(new Blob(chunks as BlobPart[]), file.name),
      abort: async () => void (chunks.length = 0),
    };
    const transfer = this.#files.download(file.id, sink);
    const row = this.#progressRow(`Downloading ${file.name}`, file.size, () => transfer.cancel());
    transfer.on('progress', ({ received, total }) => row.update(received, total));
    transfer.done.then(
      () => row.remove(),
      (error: Error) => {
        row.remove();
        this.#error.textContent = `${file.name} did not download: ${error.message}`;
      },
    );
  }

  #addFile(file: FileInfo): void {
    if (this.#known.has(file.id)) return;
    this.#known.set(file.id, file);
    const button = h('button', { type: 'button', 'aria-label': `Download ${file.name}, ${formatBytes(file.size)}` }, 'Download');
    button.addEventListener('click', () => this.#download(file));
    const shared = file.to ? `from ${file.from.name} to ${file.to.name}` : `from ${file.from.name}`;
    this.#list.append(h('li', { 'data-file': file.id },
      h('span', { class: 'name' }, file.name),
      h('span', { class: 'size' }, formatBytes(file.size)),
      button,
      h('span', { class: 'meta' }, `${shared} · ${formatTime(file.createdAt)}`)));
  }

  #progressRow(label: string, total: number, cancel: () => void) {
    const bar = h('progress', { max: Math.max(total, 1), value: 0, 'aria-label': label });
    const text = h('span', { class: 'size' }, `0 / ${formatBytes(total)}`);
    const button = h('button', { type: 'button', 'aria-label': `Cancel: ${label}` }, 'Cancel');
    button.addEventListener('click', cancel);
    const row = h('li', {}, h('span', { class: 'name' }, label), bar, text, button);
    this.#transfers.append(row);
    return {
      update(done: number, size: number) {
        bar.value = done;
        text.textContent = `${formatBytes(done)} / ${formatBytes(size)}`;
      },
      remove: () => row.remove(),
    };
  }
}

/** Offers a Blob to the user as a download named `name`. */
function saveAs(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
