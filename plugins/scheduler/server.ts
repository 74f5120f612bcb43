/**
 * The scheduler plugin, server half: meetings (title, room, start with time zone, duration, description,
 * organiser) created, listed, updated and removed by clients, kept in the embedded store, and a `started`
 * notice to the participants of a meeting's room when it starts.
 */
import { randomBytes } from 'node:crypto';
import { definePlugin } from '../../core/config.js';
import { readOptions } from '../../core/options.js';
import type { Plugin, Session } from '../../core/index.js';
import { ConfabError, isConfabError } from '../../core/errors.js';
import { isStoreError, storeWriteError } from '../../core/store.js';
import { endOf, MeetingStore } from './meetings.js';
import { SCHEDULER, SCHEDULER_ERRORS, type Meeting, type MeetingChange, type SchedulerReply, type SchedulerRequest } from './protocol.js';
import { MEETINGS } from './service.js';
import { StartTimer } from './start-timer.js';
import { checkMeeting } from './validate.js';

/** Options of the scheduler plugin. */
export interface SchedulerOptions {
  /** Most meetings that may be scheduled and not ended at once (bounds what clients can store). Default 1000. */
  maxMeetings?: number;
}

/** Replies to changes remembered per session, so a change re-sent after a reconnect is answered, not done twice. */
const REMEMBERED_REPLIES = 64;
/** Bus topics of a cluster: a meeting started (`{ meeting }`), a meeting changed (`{ change, meeting }`). */
const STARTED_TOPIC = 'scheduler.started';
const CHANGED_TOPIC = 'scheduler.changed';
const CHANGES: readonly MeetingChange[] = ['created', 'updated', 'removed'];

/** A meeting as another node of the cluster published it, checked field by field; undefined if it is not one. */
function meetingOnBus(value: unknown): Meeting | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { id, title, room, start, startMs, durationMinutes, description, organiser, createdAt, updatedAt } = value as Partial<Record<keyof Meeting, unknown>>;
  if (typeof id !== 'string' || typeof title !== 'string' || typeof room !== 'string' || typeof start !== 'string'
    || typeof description !== 'string' || typeof organiser !== 'string' || typeof startMs !== 'number'
    || typeof durationMinutes !== 'number' || typeof createdAt !== 'number' || typeof updatedAt !== 'number') return undefined;
  return { id, title, room, start, startMs, durationMinutes, description, organiser, createdAt, updatedAt };
}

/**
 * Creates the scheduler plugin.
 *
 * Who may change a meeting: its organiser (the display name of the session that created it) or a session
 * with the `moderate` grant. Anyone in any room may create and list meetings. Other plugins read the meetings
 * through the MEETINGS service (service.ts).
 *
 * @example
 *   defineConfig({ plugins: [chat(), scheduler({ maxMeetings: 200 })] });
 */
export function scheduler(options: SchedulerOptions = {}): Plugin {
  const { maxMeetings } = readOptions('scheduler', options, {
    maxMeetings: { type: 'integer', min: 1, max: 1_000_000, default: 1000 },
  });

  return definePlugin({
    name: 'scheduler',
    channels: [SCHEDULER],
    errors: SCHEDULER_ERRORS,
    provides: [MEETINGS],
    async setup(ctx) {
      const channel = ctx.channel(SCHEDULER);
      const meetings = new MeetingStore(ctx.store);
      await meetings.migrate();
      const replies = ctx.perSession(() => new Map<string, SchedulerReply>());
      /**
       * What other plugins read synchronously (the MEETINGS service) and the timer's next start: refreshed
       * from the store after every change has committed, after every announcement and at start.
       */
      const view = { upcoming: [] as Meeting[], nextStart: undefined as number | undefined };
      ctx.provide(MEETINGS, { upcomingMeetings: (now = Date.now()) => view.upcoming.filter((meeting) => endOf(meeting) > now) });
      /** Requests and announcements run one at a time, in order: a check and the write it allows see the same table. */
      let tail: Promise<unknown> = Promise.resolve();
      const serial = <T>(task: () => Promise<T>): Promise<T> => {
        const result = tail.then(task);
        tail = result.catch(() => undefined);
        return result;
      };
      const refresh = async () => {
        const now = Date.now();
        view.upcoming = await meetings.upcoming(now);
        view.nextStart = await meetings.nextStart(now);
      };

      /** Sends the `started` notice to the meeting's room, if it is here. */
      const notifyStarted = (meeting: Meeting) => {
        const room = ctx.room(meeting.room);
        if (room) channel.broadcast(room, { op: 'started', meeting });
      };
      const announce = async () => {
        for (const meeting of await meetings.takeDue(Date.now())) {
          ctx.log.info('meeting started', { id: meeting.id, room: meeting.room, participants: ctx.room(meeting.room)?.size ?? 0 });
          // In a cluster the node that took the meeting is not always the one hosting its room: the bus tells every node.
          if (ctx.cluster) {
            await ctx.cluster.bus.publish(STARTED_TOPIC, { meeting: { ...meeting } })
              .catch((error: unknown) => ctx.log.error('meeting start not announced: the bus is down', { id: meeting.id, error: String(error) }));
          } else {
            notifyStarted(meeting);
          }
        }
        await meetings.dropEnded(Date.now());
        await refresh();
      };
      const timer = new StartTimer(() => view.nextStart, () => serial(announce).catch((error: unknown) => {
        ctx.log.error('could not announce the meetings that started', { error: String(error) });
      }));
      const dropped = await meetings.dropEnded(Date.now());
      if (dropped > 0) ctx.log.info('dropped meetings that ended while the server was down', { count: dropped });
      await refresh();
      ctx.hooks.listen.tap('scheduler', () => {
        timer.arm();
        ctx.cluster?.bus.subscribe(STARTED_TOPIC, ({ data }) => {
          const meeting = meetingOnBus(data.meeting);
          if (meeting) notifyStarted(meeting);
        });
        ctx.cluster?.bus.subscribe(CHANGED_TOPIC, ({ data }) => {
          const meeting = meetingOnBus(data.meeting);
          const change = CHANGES.find((known) => known === data.change);
          if (meeting && change) tellRooms(change, meeting);
          // Another node changed the table: this node's view and timer follow.
          void serial(rearm);
        });
      });
      ctx.hooks.close.tap('scheduler', () => timer.stop());
      /** After a change committed: the view again, then the timer for what starts next. */
      const rearm = async () => {
        // The change itself has committed: a failed read here must not refuse it (the client would repeat it).
        await refresh().catch((error: unknown) => ctx.log.warn('scheduler view not refreshed', { error: String(error) }));
        timer.arm();
      };

      /** Tells every session in every room here that a meeting changed. */
      const tellRooms = (change: MeetingChange, meeting: Meeting) => {
        for (const room of ctx.rooms()) channel.broadcast(room, { op: 'changed', change, meeting });
      };
      /** Tells every room, on every node of a cluster, that a meeting changed. */
      const changed = (change: MeetingChange, meeting: Meeting) => {
        if (!ctx.cluster) return tellRooms(change, meeting);
        ctx.cluster.bus.publish(CHANGED_TOPIC, { change, meeting: { ...meeting } })
          .catch((error: unknown) => ctx.log.warn('meeting change not spread: the bus is down', { id: meeting.id, error: String(error) }));
      };

      const mayChange = (session: Session, meeting: Meeting) =>
        meeting.organiser === session.name || session.grants.has('moderate');

      const existing = async (id: string, now: number) => {
        const meeting = await meetings.get(id, now);
        if (!meeting) throw SCHEDULER_ERRORS.SCHEDULER_NOT_FOUND({ message: `no upcoming meeting has the id "${id.slice(0, 40)}"` });
        return meeting;
      };

      /** Does what the request asks and returns the reply; throws a coded error when it cannot. */
      const handle = async (session: Session, request: SchedulerRequest): Promise<SchedulerReply> => {
        const now = Date.now();
        switch (request.op) {
          case 'list':
            return { op: 'list', ref: request.ref, meetings: await meetings.upcoming(now) };
          case 'get':
            return { op: 'meeting', ref: request.ref, meeting: await existing(request.id, now) };
          case 'create': {
            const fields = checkMeeting(request.meeting, now, now);
            if (await meetings.countUpcoming(now) >= maxMeetings) {
              throw SCHEDULER_ERRORS.SCHEDULER_FULL({ message: `the server holds ${maxMeetings} upcoming meetings, its limit; remove some first` });
            }
            const meeting: Meeting = { id: randomBytes(5).toString('hex'), ...fields, organiser: session.name, createdAt: now, updatedAt: now };
            await meetings.insert(meeting);
            ctx.log.info('meeting created', { id: meeting.id, room: meeting.room, start: meeting.start, organiser: meeting.organiser });
            changed('created', meeting);
            await rearm();
            return { op: 'meeting', ref: request.ref, meeting };
          }
          case 'update': {
            const before = await existing(request.id, now);
            if (!mayChange(session, before)) throw SCHEDULER_ERRORS.SCHEDULER_FORBIDDEN();
            const merged = { ...before, ...request.patch };
            const startMoved = request.patch.start !== undefined && request.patch.start.trim() !== before.start;
            const fields = checkMeeting(merged, now, startMoved ? now : undefined);
            const meeting: Meeting = { ...before, ...fields, updatedAt: now };
            await meetings.update(meeting, startMoved);
            changed('updated', meeting);
            await rearm();
            return { op: 'meeting', ref: request.ref, meeting };
          }
          case 'remove': {
            const meeting = await existing(request.id, now);
            if (!mayChange(session, meeting)) throw SCHEDULER_ERRORS.SCHEDULER_FORBIDDEN();
            await meetings.remove(meeting.id);
            ctx.log.info('meeting removed', { id: meeting.id, by: session.name });
            changed('removed', meeting);
            await rearm();
            return { op: 'removed', ref: request.ref, id: meeting.id };
          }
        }
      };

      channel.onMessage((session, request) => {
        // parseSchedulerRequest refuses a request without a ref; the type has it optional because the client SDK adds it.
        const { ref } = request;
        const remembered = replies.get(session);
        const earlier = ref === undefined ? undefined : remembered.get(ref);
        if (earlier) return channel.send(session, earlier);
        // Answered once its change has committed; a failed write is refused with STORE_WRITE_FAILED (retryable).
        serial(async () => {
          const again = ref === undefined ? undefined : remembered.get(ref);
          if (again) return channel.send(session, again);
          const reply = await handle(session, request);
          if (ref !== undefined && request.op !== 'list' && request.op !== 'get') {
            remembered.set(ref, reply);
            if (remembered.size > REMEMBERED_REPLIES) remembered.delete(remembered.keys().next().value!);
          }
          if (session.state !== 'closed') channel.send(session, reply);
        }).catch((error: unknown) => {
          let failure: ConfabError;
          if (isConfabError(error)) failure = error;
          else if (isStoreError(error)) {
            ctx.log.warn('scheduler change not stored', { error: String(error) });
            failure = storeWriteError(error, ref);
          } else {
            ctx.log.error('scheduler request failed', { error: String(error) });
            failure = new ConfabError('INTERNAL_ERROR', 'the "scheduler" plugin failed on this request');
          }
          failure.channel ??= 'scheduler';
          if (ref !== undefined) failure.ref ??= ref;
          ctx.metrics.add(ctx.metrics.errors, failure.code);
          if (session.state !== 'closed') session.sendError(failure);
        });
      });
    },
  });
}
