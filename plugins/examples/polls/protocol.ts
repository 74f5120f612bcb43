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

/** The channel name. */
export const POLLS_CHANNEL = 'polls';

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

/** What the server sends. */
export type PollsServerMessage =
  | { op: 'poll'; poll: Poll; ref?: string }
  | { op: 'polls'; polls: Poll[] };

/** Longest `ref`, in characters. */
export const MAX_REF_LENGTH = 64;

/** The polls plugin's error codes. */
export const POLLS_ERRORS = {
  POLLS_BAD_REQUEST: 'send {"op":"create","question","options"}, {"op":"vote","poll","choice"} or {"op":"close","poll"}',
  POLLS_NO_SUCH_POLL: 'no poll with this id in this room',
  POLLS_ALREADY_VOTED: 'this session already voted in this poll',
  POLLS_CLOSED: 'this poll is closed',
  POLLS_NOT_ALLOWED: 'only the poll\'s creator or a moderator may close it',
  POLLS_TOO_MANY: 'this room has as many open polls as allowed; close one first',
} as const;
