/**
 * The scheduler plugin, client half: list, create, update and remove meetings, find a meeting's room to
 * join it, and hear when a meeting of this client's room starts. Used by the web client, the terminal UI,
 * the CLI and bots.
 *
 * @example
 *   const client = new ConfabClient({ url: 'tcp://127.0.0.1:5000', name: 'alice', room: 'lobby' });
 *   const schedule = client.use(schedulerClient());
 *   schedule.on('started', (meeting) => console.log(`${meeting.title} starts now`));
 *   await client.connect();
 *   const standup = await schedule.create({ title: 'Stand-up', room: 'lab1', start: '2030-03-01T09:00:00+01:00', durationMinutes: 15 });
 *   for (const meeting of await schedule.list()) console.log(meeting.start, meeting.title);
 *   // Join it: a client for the meeting's room.
 *   const room = await schedule.roomOf(standup.id);
 *   const inMeeting = new ConfabClient({ url: 'tcp://127.0.0.1:5000', name: 'alice', room });
 */
import type { ClientPlugin } from '../../core/client/types.js';
import { Emitter } from '../../core/client/emitter.js';
import { replyOf } from '../../core/client/requests.js';
import { SCHEDULER, type Meeting, type MeetingChange, type MeetingInput, type MeetingPatch, type SchedulerRequest } from './protocol.js';

/** Events of the scheduler client half. */
export type SchedulerEvents = {
  /** A meeting scheduled for this client's room has started. */
  started: [Meeting];
  /** A meeting was created, updated or removed (by anyone, this client included). */
  changed: [{ change: MeetingChange; meeting: Meeting }];
};

/** What `client.use(schedulerClient())` returns. Every call rejects with the server's ConfabError (SCHEDULER_…). */
export interface SchedulerApi extends Pick<Emitter<SchedulerEvents>, 'on' | 'off' | 'once'> {
  /** The meetings that have not ended, earliest start first (those in progress come first). */
  list(): Promise<Meeting[]>;
  /** One meeting by id; rejects SCHEDULER_NOT_FOUND when there is none or it has ended. */
  get(id: string): Promise<Meeting>;
  /** The room of a meeting, to give a client's `room` option when joining it. */
  roomOf(id: string): Promise<string>;
  /** Schedules a meeting; this client's name becomes its organiser. */
  create(input: MeetingInput): Promise<Meeting>;
  /** Changes some fields of a meeting (organiser or `moderate` grant only); resolves with the new version. */
  update(id: string, patch: MeetingPatch): Promise<Meeting>;
  /** Deletes a meeting (organiser or `moderate` grant only). */
  remove(id: string): Promise<void>;
}

/** Creates the scheduler client half. */
export function schedulerClient(): ClientPlugin<SchedulerApi> {
  return {
    name: 'scheduler',
    attach(ctx) {
      const events = new Emitter<SchedulerEvents>();
      const channel = ctx.channel(SCHEDULER);
      channel.onMessage((message) => {
        if (message.op === 'started') events.emit('started', message.meeting);
        else if (message.op === 'changed') events.emit('changed', { change: message.change, meeting: message.meeting });
      });
      // channel.request sends a request again with its ref after a reconnect, in case it never arrived: the
      // server answers a change it already made with the same reply instead of making it twice.
      const meetingOf = async (request: SchedulerRequest) => replyOf(await channel.request(request), 'meeting').meeting;

      return {
        on: events.on.bind(events),
        off: events.off.bind(events),
        once: events.once.bind(events),
        list: async () => replyOf(await channel.request({ op: 'list' }), 'list').meetings,
        get: (id) => meetingOf({ op: 'get', id }),
        roomOf: async (id) => (await meetingOf({ op: 'get', id })).room,
        create: (input) => meetingOf({ op: 'create', meeting: input }),
        update: (id, patch) => meetingOf({ op: 'update', id, patch }),
        remove: async (id) => {
          replyOf(await channel.request({ op: 'remove', id }), 'removed');
        },
      };
    },
  };
}
