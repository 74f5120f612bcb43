/**
 * The side panel's tabs (WAI-ARIA tabs pattern): click or arrow keys / Home / End to move, one tab panel
 * shown at a time, and a callback so the chat can clear its unread badge when it becomes visible.
 */

/** The tab list of the side panel. */
export class Tabs {
  readonly #tabs: HTMLButtonElement[];
  readonly #onSelect: (panelId: string) => void;
  #selected: string;

  constructor(tablist: HTMLElement, onSelect: (panelId: string) => void, signal: AbortSignal) {
    this.#tabs = [...tablist.querySelectorAll<HTMLButtonElement>('[role="tab"]')];
    this.#onSelect = onSelect;
    this.#selected = this.#tabs[0]!.getAttribute('aria-controls')!;
    for (const [index, tab] of this.#tabs.entries()) {
      tab.addEventListener('click', () => this.select(tab.getAttribute('aria-controls')!), { signal });
      tab.addEventListener('keydown', (event) => {
        const last = this.#tabs.length - 1;
        const target = { ArrowRight: index === last ? 0 : index + 1, ArrowLeft: index === 0 ? last : index - 1, Home: 0, End: last }[event.key];
        if (target === undefined) return;
        event.preventDefault();
        this.select(this.#tabs[target]!.getAttribute('aria-controls')!);
        this.#tabs[target]!.focus();
      }, { signal });
    }
  }

  /** The id of the panel shown. */
  get selected(): string {
    return this.#selected;
  }

  /** Shows the panel with this id. */
  select(panelId: string): void {
    this.#selected = panelId;
    for (const tab of this.#tabs) {
      const on = tab.getAttribute('aria-controls') === panelId;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
      document.getElementById(tab.getAttribute('aria-controls')!)!.hidden = !on;
    }
    this.#onSelect(panelId);
  }
}
