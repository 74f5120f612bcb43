/**
 * The polls plugin's messages, shared by its server and client halves. One json channel, `polls`.
 *
 * client → server  {"op":"create","question":"Lunch?","options":["pizza","soup"],"ref"?:"r1"}
 *                  {"op":"vote","poll":"p1","choice":0,"ref"?:"r2"}      (once per session and poll)
 *                  {"op":"close","poll":"p1","ref"?:"r3"}                (its creator, or a `moderate` grant)
 * server → room    {"op":"poll","poll":Poll}      after create, every vote and close (live results)
 * server → joiner  {"op":"polls","polls":[Poll…]} right after WELCOME, oldest first
 * errors           ERROR frames with "channel":"polls" and "ref" (codes in POLLS_ERRORS)
 *
 * The sender's own copy of the `poll` message that answers its request carries its `ref`.
 */
import { defineErrors, jsonChannel, requestRef, type JsonObject } from '../../../core/wire.js';

/** A participant as polls shows it. */
export interface PollParty {
  id: string;
  name: string;
}

/** A poll as everyone sees it. */
export interface Poll {
  /** Room-unique id: `p1`, `p2`, … */
  id: string;
  question: string;
  options: string[];
  /** Votes per option, in the order of `options`. */
  counts: number[];
  /** Sum of `counts`. */
  total: number;
  /** False once closed: no more votes. */
  open: boolean;
  createdBy: PollParty;
  /** Server time of creation, ms since epoch. */
  createdAt: number;
}

/** What a client sends. */
export type PollsRequest =
  | { op: 'create'; question: string; options: string[]; ref?: string }
  | { op: 'vote'; poll: string; choice: number; ref?: string }
  | { op: 'close'; poll: string; ref?: string };

/** What the server sends. */
export type PollsMessage =
  | { op: 'poll'; poll: Poll; ref?: string }
  | { op: 'polls'; polls: Poll[] };

/** The polls plugin's error codes. */
export const POLLS_ERRORS = defineErrors('polls', {
  POLLS_BAD_REQUEST: 'send {"op":"create","question","options"}, {"op":"vote","poll","choice"} or {"op":"close","poll"}',
  POLLS_NO_SUCH_POLL: 'no poll with this id in this room',
  POLLS_ALREADY_VOTED: 'this session already voted in this poll',
  POLLS_CLOSED: 'this poll is closed',
  POLLS_NOT_ALLOWED: 'only the poll\'s creator or a moderator may close it',
  POLLS_TOO_MANY: 'this room has as many open polls as allowed; close one first',
});

/**
 * Checks the shape of what a client sends (the server half checks the limits): an op with fields of the
 * right types, or POLLS_BAD_REQUEST saying what was wrong.
 */
export function parsePollsRequest(message: JsonObject): PollsRequest {
  const ref = requestRef(message);
  const bad = (text: string) => POLLS_ERRORS.POLLS_BAD_REQUEST({ message: text });
  switch (message.op) {
    case 'create': {
      const { question, options } = message;
      if (typeof question !== 'string' || !Array.isArray(options) || !options.every(isString)) {
        throw bad('create needs "question", a string, and "options", a list of strings');
      }
      return { op: 'create', question, options, ref };
    }
    case 'vote': {
      const { poll, choice } = message;
      if (typeof poll !== 'string' || typeof choice !== 'number' || !Number.isInteger(choice)) throw bad('vote needs "poll", a poll id, and "choice", an option index');
      return { op: 'vote', poll, choice, ref };
    }
    case 'close':
      if (typeof message.poll !== 'string') throw bad('close needs "poll", a poll id');
      return { op: 'close', poll: message.poll, ref };
    default:
      throw bad(`unknown op ${JSON.stringify(message.op)}; use create, vote or close`);
  }
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

/** The polls channel. */
export const POLLS = jsonChannel<PollsRequest, PollsMessage>('polls', { parse: parsePollsRequest, maxPayload: 64 * 1024 });
