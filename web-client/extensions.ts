/**
 * The plugins' web extensions in a meeting (core/client/extensions.ts): for each available client entry,
 * its panel as a tab of the side panel and its overlay on every participant's tile, mounted while the
 * meeting lasts. A plugin that throws while mounting is reported in the console and the meeting carries on.
 */
import type { ConfabClient } from '../core/client/browser.js';
import type { AvailableEntry } from '../core/client/entries.js';
import type { TilePeer, Unmount, WebContext } from '../core/client/extensions.js';
import { h } from './dom.js';
import type { Tabs } from './panels/tabs.js';

/** A tile's overlay layer and what the plugins mounted on it. */
interface TileLayer {
  layer: HTMLElement;
  unmounts: Unmount[];
}

/** The extensions of one meeting. */
export class WebExtensions {
  readonly #client: ConfabClient;
  readonly #tabs: Tabs;
  readonly #available: Array<AvailableEntry<unknown>> = [];
  /** What removes each plugin tab (its unmount, then the tab). */
  readonly #panels: Unmount[] = [];
  readonly #tiles = new Map<string, TileLayer>();

  constructor(client: ConfabClient, tabs: Tabs) {
    this.#client = client;
    this.#tabs = tabs;
  }

  /** Shows an entry that became available: its tab, and its overlay on the tiles there are. */
  add(available: AvailableEntry<unknown>): void {
    this.#available.push(available);
    const { entry } = available;
    const panel = entry.web?.panel;
    if (panel) {
      const tab = this.#tabs.add(`plugin-${entry.name}`, panel.label);
      const unmount = this.#mount(entry.name, () => panel.mount(tab.panel, this.#context(available)));
      this.#panels.push(() => {
        unmount();
        tab.remove();
      });
    }
    for (const [id, tile] of this.#tiles) this.#overlay(available, id, tile);
  }

  /** A tile was added to the grid: the available entries draw their overlays on it. */
  tileAdded(id: string, layer: HTMLElement): void {
    const tile: TileLayer = { layer, unmounts: [] };
    this.#tiles.set(id, tile);
    for (const available of this.#available) this.#overlay(available, id, tile);
  }

  /** A tile was removed: its overlays are unmounted. */
  tileRemoved(id: string): void {
    for (const unmount of this.#tiles.get(id)?.unmounts ?? []) unmount();
    this.#tiles.delete(id);
  }

  /** The meeting ended: every overlay and tab is unmounted and removed. Idempotent. */
  close(): void {
    for (const id of [...this.#tiles.keys()]) this.tileRemoved(id);
    for (const remove of this.#panels.splice(0)) remove();
  }

  #overlay(available: AvailableEntry<unknown>, id: string, tile: TileLayer): void {
    const overlay = available.entry.web?.tileOverlay;
    const peer = this.#peer(id);
    if (!overlay || !peer) return;
    const root = h('div', { class: 'overlay', 'data-plugin': available.entry.name });
    tile.layer.append(root);
    const unmount = this.#mount(available.entry.name, () => overlay.mount(root, peer, this.#context(available)));
    tile.unmounts.push(() => {
      unmount();
      root.remove();
    });
  }

  #context(available: AvailableEntry<unknown>): WebContext<unknown> {
    return { api: available.api, client: this.#client };
  }

  /** The participant of a tile: this client, or a peer. */
  #peer(id: string): TilePeer | undefined {
    const self = this.#client.self;
    if (self?.id === id) return { id, name: self.name, self: true };
    const peer = this.#client.peers.get(id);
    return peer && { ...peer, self: false };
  }

  /** Runs a plugin's mount, and returns its unmount (one that does nothing when it returned none or threw). */
  #mount(plugin: string, mount: () => Unmount | void): Unmount {
    try {
      return mount() ?? (() => {});
    } catch (error) {
      console.error(`plugin "${plugin}": its web extension failed to mount`, error);
      return () => {};
    }
  }
}
