/**
 * The video grid: one tile per participant (video, or initials when the camera is off; name, muted mark,
 * a green border while speaking). Gallery view shares the space evenly and reflows with the number of
 * tiles; speaker view shows the active speaker large and the others in a strip. A screen share takes the
 * stage above the grid. Received frames are decoded per tile (media/video-view.ts: JPEG, VP8, or a
 * placeholder for a codec this browser cannot decode).
 */
import type { MediaFrame } from '../core/media.js';
import { h, initials } from './dom.js';
import { icon } from './icons.js';
import type { CodecSupport } from './media/codec-support.js';
import { VideoView } from './media/video-view.js';

/** Gallery (everyone the same size) or speaker (the active speaker large). */
export type GridView = 'gallery' | 'speaker';

interface Tile {
  element: HTMLElement;
  media: HTMLElement;
  avatar: HTMLElement;
  name: HTMLElement;
  muted: HTMLElement;
  view: VideoView | undefined;
  cameraOn: boolean;
}

/** What the grid needs from the meeting. */
export interface GridOptions {
  /** What this browser decodes. */
  support: CodecSupport;
  /** A participant's VP8 decoder failed (the meeting asks the sender for a keyframe). */
  onDecodeError(id: string): void;
  /** The featured tile, the view or the senders this browser cannot decode changed: time to re-subscribe. */
  onVideoNeedsChanged(): void;
  /** A tile was added: `layer` is the empty layer over it where plugins draw their overlays (extensions.ts). */
  onTileAdded(id: string, layer: HTMLElement): void;
  /** A tile was removed. */
  onTileRemoved(id: string): void;
}

/** The grid of tiles inside `#grid`. */
export class Grid {
  readonly #root: HTMLElement;
  readonly #options: GridOptions;
  readonly #tiles = new Map<string, Tile>();
  /** Participants whose last frame came in a codec this browser cannot decode. */
  readonly #undecodable = new Set<string>();
  #view: GridView = 'gallery';
  #speaker: string | undefined;
  #featured: string | undefined;

  constructor(root: HTMLElement, options: GridOptions) {
    this.#root = root;
    this.#options = options;
    new ResizeObserver(() => this.#layout()).observe(root);
  }

  /** The current view. */
  get view(): GridView {
    return this.#view;
  }

  /** The participant shown large in speaker view; undefined in gallery view. */
  get featured(): string | undefined {
    return this.#featured;
  }

  /** Participants whose video this browser cannot decode (their tiles show a placeholder). */
  get undecodable(): ReadonlySet<string> {
    return this.#undecodable;
  }

  /** Switches between gallery and speaker view. */
  setView(view: GridView): void {
    this.#view = view;
    this.#root.dataset.view = view;
    this.#layout();
    this.#options.onVideoNeedsChanged();
  }

  /** Adds a participant's tile (once). */
  add(id: string, name: string): void {
    if (this.#tiles.has(id)) return;
    const avatar = h('div', { class: 'avatar', 'aria-hidden': 'true' }, initials(name));
    const media = h('div', { class: 'media', hidden: true });
    const nameLabel = h('span', { class: 'name' }, name);
    const muted = h('span', { class: 'muted-icon', role: 'img', title: 'Muted', 'aria-label': 'muted', hidden: true }, icon('mic-off'));
    const overlays = h('div', { class: 'overlays' });
    const element = h('figure', { class: 'tile', role: 'listitem', 'data-peer': id, 'data-speaking': 'false', 'aria-label': name },
      avatar, media, h('figcaption', {}, nameLabel, muted), overlays);
    this.#tiles.set(id, { element, media, avatar, name: nameLabel, muted, view: undefined, cameraOn: false });
    this.#root.append(element);
    this.#layout();
    this.#options.onTileAdded(id, overlays);
  }

  /** Removes a participant's tile. */
  remove(id: string): void {
    const tile = this.#tiles.get(id);
    if (tile) this.#options.onTileRemoved(id);
    tile?.view?.close();
    tile?.element.remove();
    this.#tiles.delete(id);
    this.#undecodable.delete(id);
    if (this.#speaker === id) this.#speaker = undefined;
    this.#layout();
  }

  /** Removes every tile. */
  clear(): void {
    for (const id of [...this.#tiles.keys()]) this.remove(id);
  }

  /** Renames a tile (the server may add `_1`). */
  rename(id: string, name: string): void {
    const tile = this.#tiles.get(id);
    if (!tile) return;
    tile.name.textContent = name;
    tile.avatar.textContent = initials(name);
    tile.element.setAttribute('aria-label', name);
  }

  /** Shows a received frame in a participant's tile (or a placeholder when this browser cannot decode it). */
  showFrame(id: string, frame: MediaFrame): void {
    const tile = this.#tiles.get(id);
    if (!tile) return;
    if (!tile.view) {
      const view = new VideoView(`Video of ${tile.name.textContent}`, this.#options.support, () => this.#options.onDecodeError(id));
      tile.view = view;
      tile.media.replaceChildren(view.canvas, view.placeholder);
    }
    if (!tile.cameraOn) this.setCamera(id, true);
    const decodable = tile.view.decodes(frame.codec);
    tile.view.show(frame);
    if (decodable === this.#undecodable.has(id)) {
      if (decodable) this.#undecodable.delete(id);
      else this.#undecodable.add(id);
      this.#options.onVideoNeedsChanged();
    }
  }

  /** Shows a local <video> (this client's camera preview) in a tile, or nothing. */
  showLocalVideo(id: string, video: HTMLVideoElement | undefined): void {
    const tile = this.#tiles.get(id);
    if (!tile) return;
    tile.view?.close();
    tile.view = undefined;
    tile.media.replaceChildren(...(video ? [video] : []));
    this.setCamera(id, video !== undefined);
  }

  /** Shows the video or the initials. */
  setCamera(id: string, on: boolean): void {
    const tile = this.#tiles.get(id);
    if (!tile) return;
    tile.cameraOn = on;
    tile.media.hidden = !on;
    tile.avatar.hidden = on;
  }

  /** Shows or hides the muted mark. */
  setMuted(id: string, muted: boolean): void {
    const tile = this.#tiles.get(id);
    if (tile) tile.muted.hidden = !muted;
  }

  /** Marks who is speaking; the loudest one is featured in speaker view. */
  setSpeaking(speaking: ReadonlySet<string>, loudest: string | undefined): void {
    for (const [id, tile] of this.#tiles) tile.element.dataset.speaking = String(speaking.has(id));
    if (loudest !== undefined && loudest !== this.#speaker && this.#tiles.has(loudest)) {
      this.#speaker = loudest;
      this.#layout();
    }
  }

  /** Columns for `count` tiles in a box of this aspect ratio, so tiles stay near 4:3 and as large as possible. */
  #columns(count: number): number {
    const width = this.#root.clientWidth || 4;
    const height = this.#root.clientHeight || 3;
    let best = 1;
    let bestSize = 0;
    for (let columns = 1; columns <= count; columns++) {
      const rows = Math.ceil(count / columns);
      const tileWidth = Math.min(width / columns, (height / rows) * (4 / 3));
      if (tileWidth > bestSize) {
        bestSize = tileWidth;
        best = columns;
      }
    }
    return best;
  }

  #layout(): void {
    const count = this.#tiles.size;
    const featured = this.#view === 'speaker' ? this.#speaker ?? this.#tiles.keys().next().value : undefined;
    if (featured !== this.#featured) {
      this.#featured = featured;
      this.#options.onVideoNeedsChanged();
    }
    for (const [id, tile] of this.#tiles) tile.element.classList.toggle('featured', id === featured);
    const columns = this.#view === 'speaker' ? Math.max(1, count - 1) : this.#columns(Math.max(1, count));
    this.#root.style.setProperty('--cols', String(columns));
    // The featured tile goes first so the strip follows it.
    const featuredTile = featured === undefined ? undefined : this.#tiles.get(featured);
    if (featuredTile && this.#root.firstElementChild !== featuredTile.element) this.#root.prepend(featuredTile.element);
  }
}
