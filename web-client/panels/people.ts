/**
 * The People tab: everyone in the room with their microphone and camera state, who is speaking, and a
 * button to message someone privately.
 */
import { byId, h } from '../dom.js';

/** What the list shows about one participant. */
export interface PersonState {
  id: string;
  name: string;
  self: boolean;
  micOn: boolean;
  cameraOn: boolean;
  speaking: boolean;
  presenting: boolean;
}

/** The People tab. */
export class PeoplePanel {
  readonly #list = byId<HTMLUListElement>('peers');
  readonly #count = byId('people-count');
  readonly #onMessage: (peerId: string) => void;

  constructor(onMessage: (peerId: string) => void) {
    this.#onMessage = onMessage;
  }

  /** Shows the participants, self first. */
  render(people: PersonState[]): void {
    this.#count.textContent = `(${people.length})`;
    this.#list.replaceChildren(...people.map((person) => {
      const mic = h('span', { class: person.micOn ? '' : 'off' }, person.micOn ? 'mic on' : 'muted');
      const camera = h('span', { class: person.cameraOn ? '' : 'off' }, person.cameraOn ? 'camera on' : 'camera off');
      const item = h('li', { 'data-peer': person.id, 'data-speaking': String(person.speaking) },
        h('span', { class: 'name' }, person.self ? `${person.name} (you)` : person.name, person.presenting ? ' · presenting' : '', person.speaking ? ' · speaking' : ''),
        h('span', { class: 'state' }, mic, ' · ', camera));
      if (!person.self) {
        const button = h('button', { type: 'button', 'aria-label': `Message ${person.name} privately` }, 'Message');
        button.addEventListener('click', () => this.#onMessage(person.id));
        item.append(button);
      }
      return item;
    }));
  }
}
