/**
 * The join screen: name (remembered in localStorage), room (from the address's `?room=`, the last one used,
 * or picked from the rooms in use and the meetings coming up that the server lists).
 */
import { fetchDirectory, type Directory } from './api.js';
import { byId, formatTime, h } from './dom.js';

const NAME_KEY = 'confab.name';
const ROOM_KEY = 'confab.room';
const REFRESH_MS = 10_000;

/** What the user asked to join. */
export interface JoinRequest {
  name: string;
  room: string;
}

/** The join screen. */
export class JoinScreen {
  readonly #screen = byId('join-screen');
  readonly #form = byId<HTMLFormElement>('join');
  readonly #name = byId<HTMLInputElement>('name');
  readonly #room = byId<HTMLInputElement>('room');
  readonly #error = byId('join-error');
  readonly #button: HTMLButtonElement;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** `onJoin` runs inside the submit event, so it may start audio (a user gesture). */
  constructor(onJoin: (request: JoinRequest) => void) {
    this.#name.value = localStorage.getItem(NAME_KEY) ?? '';
    this.#room.value = new URLSearchParams(location.search).get('room') ?? localStorage.getItem(ROOM_KEY) ?? 'default';
    this.#button = this.#form.querySelector('button[type="submit"]')!;
    this.#form.addEventListener('submit', (event) => {
      event.preventDefault();
      const request = { name: this.#name.value.trim(), room: this.#room.value.trim() };
      if (!request.name || !request.room) return void (this.#error.textContent = 'Enter a name and a room.');
      localStorage.setItem(NAME_KEY, request.name);
      localStorage.setItem(ROOM_KEY, request.room);
      onJoin(request);
    });
  }

  /** Shows the screen (with an error from the last attempt, if any) and keeps the directory fresh. */
  show(error = ''): void {
    this.#screen.hidden = false;
    this.#error.textContent = error;
    this.busy(false);
    void this.#refresh();
    this.#timer ??= setInterval(() => void this.#refresh(), REFRESH_MS);
    (this.#name.value ? this.#room : this.#name).focus();
  }

  /** Hides the screen. */
  hide(): void {
    this.#screen.hidden = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Disables the form while joining. */
  busy(on: boolean): void {
    this.#button.disabled = on;
    this.#button.textContent = on ? 'Joining…' : 'Join';
  }

  async #refresh(): Promise<void> {
    this.#render(await fetchDirectory());
  }

  #render({ rooms, meetings }: Directory): void {
    const list = byId('directory');
    const pick = (room: string) => {
      this.#room.value = room;
      this.#room.focus();
    };
    const items = [
      ...meetings.map((meeting) => entry(`${meeting.title}`, `${formatTime(meeting.startMs)} · room ${meeting.room}`, () => pick(meeting.room))),
      ...rooms.map((room) => entry(room.name, `${room.participants} in the room`, () => pick(room.name))),
    ];
    list.replaceChildren(...(items.length > 0 ? items : [h('li', { class: 'hint' }, 'No one is in a room yet. Start one!')]));
    byId('room-options').replaceChildren(...[...new Set([...rooms.map((r) => r.name), ...meetings.map((m) => m.room)])].map((name) => new Option(name, name)));
  }
}

function entry(title: string, meta: string, onPick: () => void): HTMLLIElement {
  const button = h('button', { type: 'button' }, h('span', {}, title), h('span', { class: 'meta' }, meta));
  button.addEventListener('click', onPick);
  return h('li', {}, button);
}
