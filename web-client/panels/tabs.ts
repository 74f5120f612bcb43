/**
 * The side panel's tabs (WAI-ARIA tabs pattern): click or arrow keys / Home / End to move, one tab panel
 * shown at a time, and a callback so the chat can clear its unread badge when it becomes visible. Plugins'
 * tabs are added and removed while the meeting lasts (web-client/extensions.ts).
 */
import { h } from '../dom.js';

/** A tab added with `Tabs.add()`: its panel, to build into, and how to take it away. */
export interface AddedTab {
  /** The empty tab panel. */
  panel: HTMLElement;
  /** Removes the tab and its panel (the first tab is shown if it was selected). */
  remove(): void;
}

/** The tab list of the side panel. */
export class Tabs {
  readonly #tablist: HTMLElement;
  readonly #onSelect: (panelId: string) => void;
  #selected: string;

  constructor(tablist: HTMLElement, onSelect: (panelId: string) => void, signal: AbortSignal) {
    this.#tablist = tablist;
    this.#onSelect = onSelect;
    this.#selected = this.#tabs()[0]!.getAttribute('aria-controls')!;
    tablist.addEventListener('click', (event) => {
      const tab = (event.target as Element).closest<HTMLButtonElement>('[role="tab"]');
      if (tab) this.select(tab.getAttribute('aria-controls')!);
    }, { signal });
    tablist.addEventListener('keydown', (event) => {
      const tabs = this.#tabs();
      const index = tabs.indexOf(event.target as HTMLButtonElement);
      const last = tabs.length - 1;
      const target = { ArrowRight: index === last ? 0 : index + 1, ArrowLeft: index === 0 ? last : index - 1, Home: 0, End: last }[event.key];
      if (index < 0 || target === undefined) return;
      event.preventDefault();
      this.select(tabs[target]!.getAttribute('aria-controls')!);
      tabs[target]!.focus();
    }, { signal });
  }

  /** The id of the panel shown. */
  get selected(): string {
    return this.#selected;
  }

  /** Shows the panel with this id. */
  select(panelId: string): void {
    this.#selected = panelId;
    for (const tab of this.#tabs()) {
      const on = tab.getAttribute('aria-controls') === panelId;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
      document.getElementById(tab.getAttribute('aria-controls')!)!.hidden = !on;
    }
    this.#onSelect(panelId);
  }

  /** Adds a tab labelled `label` after the others, with an empty panel whose id is `id`. */
  add(id: string, label: string): AddedTab {
    const tab = h('button', { type: 'button', role: 'tab', id: `tab-${id}`, 'aria-controls': id, 'aria-selected': 'false', tabindex: -1 }, label);
    const panel = h('section', { id, role: 'tabpanel', 'aria-labelledby': tab.id, class: 'tabpanel plugin-panel', hidden: true });
    this.#tablist.append(tab);
    const panels = this.#tablist.parentElement!.querySelectorAll('[role="tabpanel"]');
    panels[panels.length - 1]!.after(panel);
    return {
      panel,
      remove: () => {
        tab.remove();
        panel.remove();
        if (this.#selected === id) this.select(this.#tabs()[0]!.getAttribute('aria-controls')!);
      },
    };
  }

  #tabs(): HTMLButtonElement[] {
    return [...this.#tablist.querySelectorAll<HTMLButtonElement>('[role="tab"]')];
  }
}
