/**
 * What a plugin's client entry may add to the clients people look at: a tab in the web client's side panel
 * and an overlay on every participant's tile, a panel and slash commands in the terminal client.
 *
 * Framework-free on purpose: the web side is plain DOM (an element to build into, a function that undoes
 * it), the terminal side is text lines and functions. An extension depends on neither the web client's code
 * nor blessed, so the clients can change how they draw without breaking plugins.
 */
import type { ConfabClient } from './client.js';
import type { Peer } from './types.js';

/** Undoes what a `mount` did: remove the listeners it added to the API or the client (its elements go with their parent). */
export type Unmount = () => void;

/** What a web extension is given when it is mounted. */
export interface WebContext<Api> {
  /** The API of the plugin's client half. */
  readonly api: Api;
  /** The meeting's client: `self`, `peers` and its events. */
  readonly client: ConfabClient;
}

/**
 * A tab of the web client's side panel, shown while the meeting lasts.
 *
 * @example
 *   panel: {
 *     label: 'Polls',
 *     mount(root, { api }) {
 *       const render = () => root.replaceChildren(...);
 *       api.on('poll', render);
 *       render();
 *       return () => api.off('poll', render);
 *     },
 *   },
 */
export interface WebPanel<Api> {
  /** The tab's label (`Polls`): also the accessible name of the tab and of its panel. */
  readonly label: string;
  /** Builds the panel into `root`, an empty element, when the meeting starts; what it returns runs when the meeting ends. */
  mount(root: HTMLElement, context: WebContext<Api>): Unmount | void;
}

/** A participant whose tile an overlay is drawn on. */
export interface TilePeer extends Peer {
  /** True on this client's own tile. */
  self: boolean;
}

/** Something drawn over every participant's tile in the video grid (a raised hand, a badge). */
export interface WebTileOverlay<Api> {
  /**
   * Builds the overlay of `peer`'s tile into `root`, an empty layer over the tile (its corner, above the
   * video); what it returns runs when the tile goes (the participant left, the meeting ended).
   */
  mount(root: HTMLElement, peer: TilePeer, context: WebContext<Api>): Unmount | void;
}

/** What a plugin adds to the web client. */
export interface WebExtension<Api> {
  /** A tab in the side panel. */
  readonly panel?: WebPanel<Api>;
  /** An overlay on each participant's tile. */
  readonly tileOverlay?: WebTileOverlay<Api>;
}

/** What a terminal extension is given when its plugin's half is attached. */
export interface TerminalContext<Api> {
  /** The API of the plugin's client half. */
  readonly api: Api;
  /** The terminal client's client: `self`, `peers` and its events. */
  readonly client: ConfabClient;
  /** Asks for a redraw: call it whenever what the panel's `lines()` returns may have changed. */
  changed(): void;
  /** Adds a status line to the chat (`poll p1 closed`). */
  notice(text: string): void;
  /** Shows an error in the error line. */
  error(text: string): void;
}

/** A panel of the terminal client: beside the chat on a wide terminal, and one of those F3 cycles through. */
export interface TerminalPanel {
  /** The panel's title (`Polls`). */
  readonly title: string;
  /** The panel's text, one string per line, for a panel `width` columns wide (longer lines are wrapped). */
  lines(width: number): string[];
}

/** A slash command of the terminal client, completed by Tab and listed by /help. */
export interface TerminalCommand {
  /** The name without the slash (`poll`): lowercase letters, digits and `-`. */
  readonly name: string;
  /** How to call it, for /help (`/poll "Question?" yes no`). */
  readonly usage: string;
  /** What it does, for /help. */
  readonly help: string;
  /**
   * Runs the command with the words after its name: `"quoted words"` are one argument. A thrown error or a
   * rejection is shown in the error line.
   */
  run(args: string[]): void | Promise<void>;
}

/** What a plugin adds to the terminal client. */
export interface TerminalView {
  readonly panel?: TerminalPanel;
  readonly commands?: readonly TerminalCommand[];
}
