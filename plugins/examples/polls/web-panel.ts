/**
 * The polls tab of the web client: a form to create a poll, and the room's polls with their counts as they
 * change, a vote button per option, and Close on the polls this participant created. Each poll is built
 * once and updated in place, so a vote from someone else never takes the focus away from a button.
 */
import type { Unmount, WebContext } from '../../../core/client/extensions.js';
import type { PollsApi } from './client.js';
import type { Poll } from './protocol.js';

/** Builds the polls tab into `root`; the returned function stops following the polls. */
export function mountPollsPanel(root: HTMLElement, { api, client }: WebContext<PollsApi>): Unmount {
  const question = el('input', { id: 'polls-question', maxlength: '200', required: '', autocomplete: 'off' });
  const options = el('textarea', { id: 'polls-options', rows: '3', required: '', placeholder: 'yes\nno' });
  const error = el('p', { class: 'error', role: 'alert' });
  const form = el('form', { 'aria-label': 'Create a poll' },
    el('label', { for: 'polls-question' }, 'Question'), question,
    el('label', { for: 'polls-options' }, 'Options (one per line)'), options,
    el('button', { type: 'submit', class: 'primary' }, 'Create poll'));
  const list = el('ul', { 'aria-label': 'Polls' });
  const empty = el('p', { class: 'hint' }, 'No polls yet.');
  root.append(form, error, empty, list);

  const views = new Map<string, PollView>();
  /** The option this participant voted for, by poll id (votes are anonymous: only the voter knows). */
  const voted = new Map<string, number>();
  const act = async (action: () => Promise<Poll>): Promise<void> => {
    error.textContent = '';
    try {
      show(await action());
    } catch (failure) {
      error.textContent = (failure as Error).message;
    }
  };
  const show = (poll: Poll) => {
    let view = views.get(poll.id);
    if (!view) {
      view = new PollView(poll, {
        vote: (choice) => void act(async () => {
          const updated = await api.vote(poll.id, choice);
          voted.set(poll.id, choice);
          return updated;
        }),
        close: () => void act(() => api.close(poll.id)),
      });
      views.set(poll.id, view);
      list.prepend(view.element);
    }
    view.update(poll, poll.createdBy.id === client.self?.id, voted.get(poll.id));
    empty.hidden = views.size > 0;
  };
  const showAll = () => {
    // A new session (a rejoin) gets the room's polls again: the old views go.
    for (const [id, view] of [...views]) {
      if (api.polls.has(id)) continue;
      view.element.remove();
      views.delete(id);
    }
    for (const poll of api.polls.values()) show(poll);
    empty.hidden = views.size > 0;
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const choices = options.value.split('\n').map((line) => line.trim()).filter((line) => line !== '');
    void act(async () => {
      const poll = await api.create(question.value.trim(), choices);
      form.reset();
      return poll;
    });
  });
  api.on('poll', show);
  api.on('polls', showAll);
  showAll();
  return () => {
    api.off('poll', show);
    api.off('polls', showAll);
  };
}

/** One poll in the list, updated in place. */
class PollView {
  readonly element: HTMLLIElement;
  readonly #status: HTMLElement;
  readonly #rows: Array<{ count: HTMLElement; bar: HTMLElement; button: HTMLButtonElement }>;
  readonly #close: HTMLButtonElement;

  constructor(poll: Poll, actions: { vote(choice: number): void; close(): void }) {
    this.#status = el('span', { class: 'count' });
    this.#rows = poll.options.map((option, choice) => {
      const button = el('button', { type: 'button', 'aria-label': `Vote for ${option}` }, 'Vote');
      button.addEventListener('click', () => actions.vote(choice));
      return { count: el('span', { class: 'count' }), bar: el('span', { 'aria-hidden': 'true', style: STYLES.bar }), button };
    });
    this.#close = el('button', { type: 'button', 'aria-label': `Close poll ${poll.question}` }, 'Close poll');
    this.#close.addEventListener('click', () => actions.close());
    const heading = el('strong', { id: `poll-${poll.id}-question` }, poll.question);
    const options = el('ol', {}, ...poll.options.map((option, choice) => {
      const row = this.#rows[choice]!;
      return el('li', { style: STYLES.option }, el('span', {}, option), row.count, row.button, row.bar);
    }));
    this.element = el('li', { 'data-poll': poll.id, 'aria-labelledby': heading.id, style: STYLES.poll }, heading, this.#status, options, this.#close);
  }

  /** Shows the poll's counts; `own`: this participant created it; `choice`: what it voted, if it did. */
  update(poll: Poll, own: boolean, choice: number | undefined): void {
    const state = poll.open ? 'open' : 'closed';
    const mine = choice === undefined ? '' : ` · you voted ${poll.options[choice]}`;
    this.#status.textContent = `${state} · ${votes(poll.total)} · by ${poll.createdBy.name}${mine}`;
    poll.counts.forEach((count, index) => {
      const row = this.#rows[index]!;
      const share = poll.total === 0 ? 0 : Math.round((count / poll.total) * 100);
      row.count.textContent = `${votes(count)} (${share}%)`;
      row.bar.style.width = `${share}%`;
      row.button.disabled = !poll.open || choice !== undefined;
    });
    this.#close.hidden = !own || !poll.open;
  }
}

/** The panel's own look, on top of the web client's (its colours are the page's CSS variables). */
const STYLES = {
  poll: 'display: flex; flex-direction: column; gap: .3rem; padding: .5rem .6rem; border-radius: 8px; background: var(--surface-2);',
  option: 'display: grid; grid-template-columns: 1fr auto auto; gap: .4rem; align-items: center;',
  bar: 'grid-column: 1 / -1; height: .3rem; width: 0; border-radius: 2px; background: var(--accent);',
};

/** `1 vote`, `2 votes`. */
function votes(count: number): string {
  return `${count} vote${count === 1 ? '' : 's'}`;
}

/** Creates an element with attributes and children (strings become text: nothing is parsed as HTML). */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string>, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}
