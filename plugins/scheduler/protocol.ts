/**
 * The scheduler plugin's messages, shared by its server and client halves. One json channel, `scheduler`.
 * Every request carries a `ref` (the client's id for it); the answer or the ERROR frame carries it back.
 *
 * client → server  {"op":"list","ref":"r1"}
 *                  {"op":"get","ref":"r2","id":"3f9c2a1b7d"}
 *                  {"op":"create","ref":"r3","meeting":{"title","room","start","durationMinutes","description"?}}
 *                  {"op":"update","ref":"r4","id":"…","patch":{…any of the create fields}}
 *                  {"op":"remove","ref":"r5","id":"…"}
 * server → asker   {"op":"list","ref","meetings":[Meeting…]}        (meetings not ended yet, earliest start first)
 *                  {"op":"meeting","ref","meeting":Meeting}          (get, create, update)
 *                  {"op":"removed","ref","id"}
 * server → all     {"op":"changed","change":"created"|"updated"|"removed","meeting":Meeting}   (every room)
 * server → room    {"op":"started","meeting":Meeting}               (the meeting's room, when it starts)
 * errors           ERROR frames with "channel":"scheduler" and "ref" (codes in SCHEDULER_ERRORS)
 *
 * This file checks the shape of a request (parseSchedulerRequest); validate.ts checks a meeting's values.
 */
import { jsonChannel, MAX_REF_LENGTH, requestRef } from '../../core/channel-def.js';
import { defineErrors, type ConfabError } from '../../core/errors.js';
import type { JsonObject } from '../../core/json.js';

/** A scheduled meeting, as stored and sent. */
export interface Meeting {
  /** Server-assigned id: 10 lowercase hex digits. */
  id: string;
  title: string;
  /** The room participants join for the meeting. */
  room: string;
  /** ISO 8601 date and time with its time zone, as the organiser gave it: `2025-03-01T14:00:00+01:00`. */
  start: string;
  /** `start` in ms since the epoch (UTC), for sorting and comparing. */
  startMs: number;
  durationMinutes: number;
  /** Empty when none was given. */
  description: string;
  /** The display name of the session that created it. */
  organiser: string;
  /** Server time of creation and of the last update, ms since the epoch. */
  createdAt: number;
  updatedAt: number;
}

/** What `create` takes. */
export interface MeetingInput {
  title: string;
  room: string;
  start: string;
  durationMinutes: number;
  description?: string;
}

/** What `update` takes: any of the create fields. */
export type MeetingPatch = Partial<MeetingInput>;

/** What happened to a meeting, in a `changed` message. */
export type MeetingChange = 'created' | 'updated' | 'removed';

/**
 * What a client sends. The server refuses a request without a `ref`; it is optional here because the client
 * SDK's `channel.request()` adds it.
 */
export type SchedulerRequest =
  | { op: 'list'; ref?: string }
  | { op: 'get'; ref?: string; id: string }
  | { op: 'create'; ref?: string; meeting: MeetingInput }
  | { op: 'update'; ref?: string; id: string; patch: MeetingPatch }
  | { op: 'remove'; ref?: string; id: string };

/** A reply to one request, with the request's `ref`. */
export type SchedulerReply =
  | { op: 'list'; ref?: string; meetings: Meeting[] }
  | { op: 'meeting'; ref?: string; meeting: Meeting }
  | { op: 'removed'; ref?: string; id: string };

/** What the server sends. */
export type SchedulerMessage =
  | SchedulerReply
  | { op: 'changed'; change: MeetingChange; meeting: Meeting }
  | { op: 'started'; meeting: Meeting };

/** Limits on a meeting's fields. */
export const LIMITS = {
  /** Longest title, in characters (code points). */
  titleLength: 200,
  /** Longest description, in characters (code points). */
  descriptionLength: 2000,
  /** Shortest and longest meeting, in minutes. */
  minDurationMinutes: 1,
  maxDurationMinutes: 24 * 60,
  /** How far ahead a meeting may start, in days. */
  maxDaysAhead: 5 * 366,
} as const;

/** The scheduler plugin's error codes. */
export const SCHEDULER_ERRORS = defineErrors('scheduler', {
  SCHEDULER_BAD_REQUEST: 'the request must be {"op":"list"|"get"|"create"|"update"|"remove","ref":string,…} (see docs/protocol.md)',
  SCHEDULER_TITLE_EMPTY: 'the title is empty',
  SCHEDULER_FIELD_TOO_LONG: 'a field is longer than the server allows',
  SCHEDULER_BAD_ROOM: 'the room must be 1 to 64 characters without control characters',
  SCHEDULER_BAD_START: 'start must be an ISO 8601 date and time with a time zone, like 2025-03-01T14:00:00+01:00 or 2025-03-01T13:00:00Z',
  SCHEDULER_START_IN_PAST: 'start is in the past',
  SCHEDULER_START_TOO_FAR: 'start is too far in the future',
  SCHEDULER_BAD_DURATION: 'durationMinutes must be a whole number of minutes from 1 to 1440',
  SCHEDULER_NOT_FOUND: 'no upcoming meeting has this id',
  SCHEDULER_FORBIDDEN: 'only the organiser or a session with the moderate grant may change this meeting',
  SCHEDULER_FULL: 'the server already holds as many upcoming meetings as it allows',
});

/** The fields of a meeting that clients give. */
const FIELD_NAMES = 'title, room, start, durationMinutes, description';

/**
 * Checks the shape of a request: a `ref`, a known op and fields of the right types, or SCHEDULER_BAD_REQUEST
 * saying what was wrong. The values of a meeting's fields are checked by the server half (validate.ts).
 */
export function parseSchedulerRequest(message: JsonObject): SchedulerRequest {
  const ref = requestRef(message);
  const bad = (text: string) => SCHEDULER_ERRORS.SCHEDULER_BAD_REQUEST({ ref, message: text });
  if (ref === undefined) throw bad(`every request needs a "ref": a string of 1 to ${MAX_REF_LENGTH} characters`);
  const { op, id } = message;
  switch (op) {
    case 'list':
      return { op, ref };
    case 'create':
      return { op, ref, meeting: meetingInput(message.meeting, bad) };
    case 'get':
    case 'update':
    case 'remove':
      if (typeof id !== 'string') throw bad(`"${op}" needs an "id" string`);
      return op === 'update' ? { op, ref, id, patch: meetingPatch(message.patch, 'patch', bad) } : { op, ref, id };
    default:
      throw SCHEDULER_ERRORS.SCHEDULER_BAD_REQUEST({ ref });
  }
}

/** The fields of an `update`'s patch (or of a `create`'s meeting), each of its JSON type. */
function meetingPatch(value: unknown, what: string, bad: (text: string) => ConfabError): MeetingPatch {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(`"${what}" must be an object with ${FIELD_NAMES}`);
  const patch: MeetingPatch = {};
  for (const [key, field] of Object.entries(value)) {
    switch (key) {
      case 'title':
      case 'room':
      case 'start':
      case 'description':
        if (typeof field !== 'string') throw bad(`"${what}.${key}" must be a string`);
        patch[key] = field;
        break;
      case 'durationMinutes':
        if (typeof field !== 'number') throw bad(`"${what}.${key}" must be a number`);
        patch[key] = field;
        break;
      default:
        throw bad(`"${what}.${key}" is not a meeting field; the fields are ${FIELD_NAMES}`);
    }
  }
  return patch;
}

/** A `create`'s meeting: every field, but the description may be left out. */
function meetingInput(value: unknown, bad: (text: string) => ConfabError): MeetingInput {
  const { title, room, start, durationMinutes, description } = meetingPatch(value, 'meeting', bad);
  if (title === undefined) throw bad('"meeting.title" must be a string');
  if (room === undefined) throw bad('"meeting.room" must be a string');
  if (start === undefined) throw bad('"meeting.start" must be a string');
  if (durationMinutes === undefined) throw bad('"meeting.durationMinutes" must be a number');
  return description === undefined ? { title, room, start, durationMinutes } : { title, room, start, durationMinutes, description };
}

/** The scheduler channel. */
export const SCHEDULER = jsonChannel<SchedulerRequest, SchedulerMessage>('scheduler', { parse: parseSchedulerRequest, maxPayload: 64 * 1024 });
