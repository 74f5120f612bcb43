/**
 * Checks of the values of a meeting that a client gives the scheduler (title, room, start with its time zone,
 * duration, description), once parseSchedulerRequest (protocol.ts) has checked their types. Errors are
 * SCHEDULER_* ConfabErrors; the channel adds the request's `ref`.
 */
import { MAX_NAME_LENGTH } from '../../core/room.js';
import { LIMITS, SCHEDULER_ERRORS, type MeetingInput } from './protocol.js';

const {
  SCHEDULER_BAD_DURATION,
  SCHEDULER_BAD_REQUEST,
  SCHEDULER_BAD_ROOM,
  SCHEDULER_BAD_START,
  SCHEDULER_FIELD_TOO_LONG,
  SCHEDULER_START_IN_PAST,
  SCHEDULER_START_TOO_FAR,
  SCHEDULER_TITLE_EMPTY,
} = SCHEDULER_ERRORS;

/** Control characters: refused in titles and room names (the rule HELLO applies to room names). */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** The same, but a description may have line breaks and tabs. */
const CONTROL_CHARACTERS_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;
/** `2025-03-01T14:00`, optional seconds and fraction, then `Z` or an offset `+01:00` / `+0100`. */
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))$/;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Checks a meeting's fields and returns them tidied (title trimmed, description defaulted to '') with the
 * start in ms. `startMustBeAfter`: the start must not be before this time (now, for a new or moved start).
 */
export function checkMeeting(input: MeetingInput, now: number, startMustBeAfter: number | undefined): Required<MeetingInput> & { startMs: number } {
  const title = input.title.trim();
  if (title.length === 0) throw SCHEDULER_TITLE_EMPTY();
  if (codePoints(title) > LIMITS.titleLength) throw SCHEDULER_FIELD_TOO_LONG({ message: `the title has more than ${LIMITS.titleLength} characters` });
  if (CONTROL_CHARACTERS.test(title)) throw SCHEDULER_BAD_REQUEST({ message: 'the title must not contain control characters' });

  const description = input.description ?? '';
  if (codePoints(description) > LIMITS.descriptionLength) {
    throw SCHEDULER_FIELD_TOO_LONG({ message: `the description has more than ${LIMITS.descriptionLength} characters` });
  }
  if (CONTROL_CHARACTERS_BUT_LINES.test(description)) {
    throw SCHEDULER_BAD_REQUEST({ message: 'the description must not contain control characters other than line breaks and tabs' });
  }

  const room = input.room;
  if (room.length === 0 || room.length > MAX_NAME_LENGTH || CONTROL_CHARACTERS.test(room)) throw SCHEDULER_BAD_ROOM();

  const { durationMinutes } = input;
  if (!Number.isInteger(durationMinutes) || durationMinutes < LIMITS.minDurationMinutes || durationMinutes > LIMITS.maxDurationMinutes) {
    throw SCHEDULER_BAD_DURATION({ detail: `got ${JSON.stringify(durationMinutes)}` });
  }

  const start = input.start.trim();
  const startMs = parseIsoDateTime(start);
  if (startMs === undefined) throw SCHEDULER_BAD_START({ detail: `got ${JSON.stringify(start.slice(0, 40))}` });
  if (startMustBeAfter !== undefined && startMs < startMustBeAfter) {
    throw SCHEDULER_START_IN_PAST({ message: `start ${start} is in the past (server time is ${new Date(now).toISOString()})` });
  }
  if (startMs > now + LIMITS.maxDaysAhead * DAY_MS) throw SCHEDULER_START_TOO_FAR({ message: `start must be within ${LIMITS.maxDaysAhead} days from now` });
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
