/**
 * Checks of what clients send the scheduler: the request's shape, and each field of a meeting (title, room,
 * start with its time zone, duration, description). Errors are ConfabErrors with SCHEDULER_* codes.
 */
import { ConfabError } from '../../core/errors.js';
import type { JsonObject } from '../../core/json.js';
import { MAX_NAME_LENGTH } from '../../core/room.js';
import { LIMITS, SCHEDULER_ERRORS, type MeetingInput, type MeetingPatch, type SchedulerErrorCode, type SchedulerRequest } from './protocol.js';

/** Control characters: refused in titles and room names (the rule HELLO applies to room names). */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** The same, but a description may have line breaks and tabs. */
const CONTROL_CHARACTERS_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;
/** `2025-03-01T14:00`, optional seconds and fraction, then `Z` or an offset `+01:00` / `+0100`. */
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))$/;
const FIELDS = ['title', 'room', 'start', 'durationMinutes', 'description'] as const;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A scheduler error with its default message, or `message`. */
export function schedulerError(code: SchedulerErrorCode, message?: string): ConfabError {
  return new ConfabError(code, message ?? SCHEDULER_ERRORS[code], { fatal: false });
}

/** Checks the shape of a request (not the meeting's fields); throws SCHEDULER_BAD_REQUEST. */
export function parseRequest(message: JsonObject): SchedulerRequest {
  const { op, ref } = message;
  if (typeof ref !== 'string' || ref.length === 0 || ref.length > LIMITS.refLength) {
    throw schedulerError('SCHEDULER_BAD_REQUEST', `every request needs a "ref": a string of 1 to ${LIMITS.refLength} characters`);
  }
  const needsId = op === 'get' || op === 'update' || op === 'remove';
  if (needsId && typeof message.id !== 'string') throw schedulerError('SCHEDULER_BAD_REQUEST', `"${op}" needs an "id" string`);
  switch (op) {
    case 'list':
      return { op, ref };
    case 'get':
    case 'remove':
      return { op, ref, id: message.id as string };
    case 'create':
      return { op, ref, meeting: fieldsOf(message.meeting, 'meeting', true) as MeetingInput };
    case 'update':
      return { op, ref, id: message.id as string, patch: fieldsOf(message.patch, 'patch', false) };
    default:
      throw schedulerError('SCHEDULER_BAD_REQUEST');
  }
}

/** The meeting fields of a `create` or `update`, type-checked; values are checked by `checkMeeting`. */
function fieldsOf(value: unknown, what: string, complete: boolean): MeetingPatch {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw schedulerError('SCHEDULER_BAD_REQUEST', `"${what}" must be an object with ${FIELDS.join(', ')}`);
  }
  const given = value as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      throw schedulerError('SCHEDULER_BAD_REQUEST', `"${what}.${key}" is not a meeting field; the fields are ${FIELDS.join(', ')}`);
    }
  }
  for (const key of FIELDS) {
    const field = given[key];
    const expected = key === 'durationMinutes' ? 'number' : 'string';
    if (field === undefined && (!complete || key === 'description')) continue;
    if (typeof field !== expected) throw schedulerError('SCHEDULER_BAD_REQUEST', `"${what}.${key}" must be a ${expected}`);
  }
  return given as MeetingPatch;
}

/**
 * Checks a meeting's fields and returns them tidied (title trimmed, description defaulted to '') with the
 * start in ms. `startMustBeAfter`: the start must not be before this time (now, for a new or moved start).
 */
export function checkMeeting(input: MeetingInput, now: number, startMustBeAfter: number | undefined): Required<MeetingInput> & { startMs: number } {
  const title = input.title.trim();
  if (title.length === 0) throw schedulerError('SCHEDULER_TITLE_EMPTY');
  if (codePoints(title) > LIMITS.titleLength) {
    throw schedulerError('SCHEDULER_FIELD_TOO_LONG', `the title has more than ${LIMITS.titleLength} characters`);
  }
  if (CONTROL_CHARACTERS.test(title)) throw schedulerError('SCHEDULER_BAD_REQUEST', 'the title must not contain control characters');

  const description = input.description ?? '';
  if (codePoints(description) > LIMITS.descriptionLength) {
    throw schedulerError('SCHEDULER_FIELD_TOO_LONG', `the description has more than ${LIMITS.descriptionLength} characters`);
  }
  if (CONTROL_CHARACTERS_BUT_LINES.test(description)) {
    throw schedulerError('SCHEDULER_BAD_REQUEST', 'the description must not contain control characters other than line breaks and tabs');
  }

  const room = input.room;
  if (room.length === 0 || room.length > MAX_NAME_LENGTH || CONTROL_CHARACTERS.test(room)) throw schedulerError('SCHEDULER_BAD_ROOM');

  const { durationMinutes } = input;
  if (!Number.isInteger(durationMinutes) || durationMinutes < LIMITS.minDurationMinutes || durationMinutes > LIMITS.maxDurationMinutes) {
    throw schedulerError('SCHEDULER_BAD_DURATION', `${SCHEDULER_ERRORS.SCHEDULER_BAD_DURATION}, got ${JSON.stringify(durationMinutes)}`);
  }

  const start = input.start.trim();
  const startMs = parseIsoDateTime(start);
  if (startMs === undefined) throw schedulerError('SCHEDULER_BAD_START', `${SCHEDULER_ERRORS.SCHEDULER_BAD_START}; got ${JSON.stringify(start.slice(0, 40))}`);
  if (startMustBeAfter !== undefined && startMs < startMustBeAfter) {
    throw schedulerError('SCHEDULER_START_IN_PAST', `start ${start} is in the past (server time is ${new Date(now).toISOString()})`);
  }
  if (startMs > now + LIMITS.maxDaysAhead * DAY_MS) {
    throw schedulerError('SCHEDULER_START_TOO_FAR', `start must be within ${LIMITS.maxDaysAhead} days from now`);
  }
  return { title, room, start, startMs, durationMinutes, description };
}

/**
 * The time an ISO 8601 date-time with a time zone stands for, in ms since the epoch, or undefined when the
 * text is not one (no time zone, a 31st of April, hour 24…).
 *
 * @example
 *   parseIsoDateTime('2025-03-01T14:00:00+01:00') === Date.UTC(2025, 2, 1, 13, 0, 0)
 *   parseIsoDateTime('2025-03-01T14:00:00') === undefined   // no time zone: ambiguous
 */
export function parseIsoDateTime(text: string): number | undefined {
  const match = ISO_DATE_TIME.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second = 0] = match.slice(1, 7).map((part) => (part === undefined ? undefined : Number(part))) as number[];
  const fraction = match[7] === undefined ? 0 : Number(`0.${match[7]}`);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (match[8] === undefined) {
    const offsetHours = Number(match[10]);
    const offsetRest = Number(match[11]);
    if (offsetHours > 23 || offsetRest > 59) return undefined;
    offsetMinutes = (match[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetRest);
  }
  const utc = Date.UTC(year, month - 1, day, hour, minute, second) + Math.floor(fraction * 1000);
  return utc - offsetMinutes * 60_000;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function codePoints(text: string): number {
  let count = 0;
  for (const _codePoint of text) count++;
  return count;
}
