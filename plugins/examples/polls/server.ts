/**
 * The polls plugin, server half: anyone creates a poll, each session votes once, everyone sees the counts
 * change live, and the creator (or a moderator) closes it. State is per room and goes with the room.
 */
import { definePlugin } from '../../../core/config.js';
import { readOptions } from '../../../core/options.js';
import type { Plugin, Room, Session } from '../../../core/index.js';
import { POLLS, POLLS_ERRORS, type Poll } from './protocol.js';

/** Options of the polls plugin. */
export interface PollsOptions {
  /** Open polls per room at a time. Default 10. */
  maxOpenPolls?: number;
  /** Polls (open and closed) kept per room and shown to joiners; the oldest closed go first. Default 50. */
  maxKeptPolls?: number;
  /** Most options of one poll (at least 2). Default 10. */
  maxOptions?: number;
  /** Longest question or option, in characters. Default 200. */
  maxTextLength?: number;
}

/** A poll and who voted what. */
interface PollRecord {
  poll: Poll;
  /** Session id → chosen option. */
  voters: Map<string, number>;
}

/** One room's polls, in creation order. */
interface RoomPolls {
  polls: Map<string, PollRecord>;
  nextId: number;
}

/**
 * Creates the polls plugin.
 *
 * @example
 *   defineConfig({ plugins: [...builtinPlugins(), polls({ maxOpenPolls: 3 })] });
 */
export function polls(options: PollsOptions = {}): Plugin {
  const limits = readOptions('polls', options, {
    maxOpenPolls: { type: 'integer', min: 1, max: 1000, default: 10 },
    maxKeptPolls: { type: 'integer', min: 1, max: 10_000, default: 50 },
    maxOptions: { type: 'integer', min: 2, max: 100, default: 10 },
    maxTextLength: { type: 'integer', min: 1, max: 10_000, default: 200 },
  });

  return definePlugin({
    name: 'polls',
    channels: [POLLS],
    errors: POLLS_ERRORS,
    client: new URL('./entry.ts', import.meta.url),
    setup(ctx) {
      const channel = ctx.channel(POLLS);
      const roomPolls = ctx.perRoom((): RoomPolls => ({ polls: new Map(), nextId: 1 }));

      ctx.hooks.sessionJoined.tap('polls', (session, room) => {
        channel.send(session, { op: 'polls', polls: [...roomPolls.get(room).polls.values()].map((r) => r.poll) });
      });

      /** Tells the room about a poll; the requester's copy carries its ref. */
      const announce = (room: Room, poll: Poll, requester: Session, ref: string | undefined) => {
        channel.broadcast(room, { op: 'poll', poll }, { except: requester });
        channel.send(requester, ref === undefined ? { op: 'poll', poll } : { op: 'poll', poll, ref });
      };

      channel.onMessage((session, request) => {
        const { ref } = request;
        const state = roomPolls.get(session.room);
        const find = (id: string): PollRecord => {
          const record = state.polls.get(id);
          if (!record) throw POLLS_ERRORS.POLLS_NO_SUCH_POLL({ message: `no poll with id ${JSON.stringify(id)} in this room` });
          return record;
        };

        switch (request.op) {
          case 'create': {
            const { question, options: choices } = request;
            const isText = (value: string) => value.trim().length > 0 && value.length <= limits.maxTextLength;
            if (!isText(question) || !choices.every(isText)) {
              throw POLLS_ERRORS.POLLS_BAD_REQUEST({ message: `a poll needs a question and options: non-empty strings of at most ${limits.maxTextLength} characters` });
            }
            if (choices.length < 2 || choices.length > limits.maxOptions) {
              throw POLLS_ERRORS.POLLS_BAD_REQUEST({ message: `a poll has 2 to ${limits.maxOptions} options; this one has ${choices.length}` });
            }
            const open = [...state.polls.values()].filter((r) => r.poll.open).length;
            if (open >= limits.maxOpenPolls) throw POLLS_ERRORS.POLLS_TOO_MANY({ message: `this room has ${open} open polls; the limit is ${limits.maxOpenPolls}` });
            const poll: Poll = {
              id: `p${state.nextId++}`,
              question,
              options: choices,
              counts: choices.map(() => 0),
              total: 0,
              open: true,
              createdBy: session.info,
              createdAt: Date.now(),
            };
            state.polls.set(poll.id, { poll, voters: new Map() });
            forgetOldest(state, limits.maxKeptPolls);
            return announce(session.room, poll, session, ref);
          }
          case 'vote': {
            const record = find(request.poll);
            const { choice } = request;
            if (choice < 0 || choice >= record.poll.options.length) {
              throw POLLS_ERRORS.POLLS_BAD_REQUEST({ message: `choice must be an option index from 0 to ${record.poll.options.length - 1}` });
            }
            if (!record.poll.open) throw POLLS_ERRORS.POLLS_CLOSED();
            if (record.voters.has(session.id)) throw POLLS_ERRORS.POLLS_ALREADY_VOTED();
            record.voters.set(session.id, choice);
            record.poll.counts[choice]!++;
            record.poll.total++;
            return announce(session.room, record.poll, session, ref);
          }
          case 'close': {
            const record = find(request.poll);
            if (record.poll.createdBy.id !== session.id && !session.grants.has('moderate')) throw POLLS_ERRORS.POLLS_NOT_ALLOWED();
            if (!record.poll.open) throw POLLS_ERRORS.POLLS_CLOSED();
            record.poll.open = false;
            return announce(session.room, record.poll, session, ref);
          }
        }
      });
    },
  });
}

/** Drops the oldest closed polls while the room keeps more than `limit`. */
function forgetOldest(state: RoomPolls, limit: number): void {
  for (const [id, record] of state.polls) {
    if (state.polls.size <= limit) return;
    if (!record.poll.open) state.polls.delete(id);
  }
}
