/**
 * The Schedule tab: the meetings that have not ended (live updates from the scheduler plugin), a form to
 * schedule one, and a button to join a meeting's room.
 */
import type { SchedulerApi } from '../../plugins/scheduler/client.js';
import type { Meeting } from '../../plugins/scheduler/protocol.js';
import { byId, formatTime, h } from '../dom.js';

/** The Schedule tab, bound to one scheduler client half. */
export class SchedulePanel {
  readonly #scheduler: SchedulerApi;
  readonly #list = byId<HTMLUListElement>('meetings');
  readonly #error = byId('schedule-error');
  readonly #meetings = new Map<string, Meeting>();
  readonly #onJoinRoom: (room: string) => void;

  constructor(scheduler: SchedulerApi, room: string, onJoinRoom: (room: string) => void, signal: AbortSignal) {
    this.#scheduler = scheduler;
    this.#onJoinRoom = onJoinRoom;
    byId<HTMLInputElement>('meeting-room').value = room;
    const start = byId<HTMLInputElement>('meeting-start');
    start.value = localInputValue(new Date(Date.now() + 3_600_000));
    scheduler.on('changed', ({ change, meeting }) => {
      if (change === 'removed') this.#meetings.delete(meeting.id);
      else this.#meetings.set(meeting.id, meeting);
      this.#render();
    });
    byId<HTMLFormElement>('schedule-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#create();
    }, { signal });
    this.#list.replaceChildren();
    this.#error.textContent = '';
  }

  /** Loads the meetings (after joining). */
  async refresh(): Promise<void> {
    try {
      for (const meeting of await this.#scheduler.list()) this.#meetings.set(meeting.id, meeting);
      this.#render();
    } catch (error) {
      this.#error.textContent = `Could not load meetings: ${(error as Error).message}`;
    }
  }

  async #create(): Promise<void> {
    this.#error.textContent = '';
    const title = byId<HTMLInputElement>('meeting-title');
    const startValue = byId<HTMLInputElement>('meeting-start').value;
    try {
      const meeting = await this.#scheduler.create({
        title: title.value.trim(),
        room: byId<HTMLInputElement>('meeting-room').value.trim(),
        start: isoWithOffset(new Date(startValue)),
        durationMinutes: Number(byId<HTMLInputElement>('meeting-duration').value),
      });
      this.#meetings.set(meeting.id, meeting);
      this.#render();
      title.value = '';
    } catch (error) {
      this.#error.textContent = `Not scheduled: ${(error as Error).message}`;
    }
  }

  #render(): void {
    const meetings = [...this.#meetings.values()].sort((a, b) => a.startMs - b.startMs);
    this.#list.replaceChildren(...meetings.map((meeting) => {
      const join = h('button', { type: 'button', 'aria-label': `Go to room ${meeting.room} for ${meeting.title}` }, 'Go to room');
      join.addEventListener('click', () => this.#onJoinRoom(meeting.room));
      return h('li', { 'data-meeting': meeting.id },
        h('span', { class: 'title' }, meeting.title),
        join,
        h('span', { class: 'meta' }, `${formatTime(meeting.startMs)} · ${meeting.durationMinutes} min · room ${meeting.room} · by ${meeting.organiser}`));
    }));
    if (meetings.length === 0) this.#list.append(h('li', { class: 'meta' }, 'No meetings scheduled.'));
  }
}

/** `2025-03-01T14:00` for a datetime-local input, in local time. */
function localInputValue(date: Date): string {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

/** ISO 8601 with the local offset, as the scheduler wants it: `2025-03-01T14:00:00+01:00`. */
function isoWithOffset(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const pad = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, '0');
  return `${localInputValue(date)}:00${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}
