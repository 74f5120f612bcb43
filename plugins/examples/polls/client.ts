/**
 * The polls plugin, client half: create polls, vote, close, and follow every poll of the room live.
 *
 * @example
 *   const polls = client.use(pollsClient());
 *   polls.on('poll', (poll) => console.log(poll.question, poll.counts));
 *   await client.connect();
 *   const poll = await polls.create('Lunch?', ['pizza', 'soup']);
 *   await polls.vote(poll.id, 0);   // resolves with the updated counts
 *   await polls.close(poll.id);
 */
import type { ClientPlugin } from '../../../core/client/types.js';
import { Emitter } from '../../../core/client/emitter.js';
import { replyOf } from '../../../core/client/requests.js';
import { POLLS, type Poll, type PollsRequest } from './protocol.js';

/** Events of the polls client half. */
export type PollsEvents = {
  /** A poll was created, got a vote, or was closed. */
  poll: [Poll];
  /** The room's polls, sent when this client joins. */
  polls: [Poll[]];
};

/** What `client.use(pollsClient())` returns. */
export interface PollsApi extends Pick<Emitter<PollsEvents>, 'on' | 'off' | 'once'> {
  /** The room's polls by id, kept up to date. */
  readonly polls: ReadonlyMap<string, Poll>;
  /** Creates a poll; resolves with it, or rejects with the server's ConfabError (POLLS_BAD_REQUEST…). */
  create(question: string, options: string[]): Promise<Poll>;
  /** Votes for option `choice` (0-based); resolves with the poll's new counts. POLLS_ALREADY_VOTED the second time. */
  vote(pollId: string, choice: number): Promise<Poll>;
  /** Closes a poll this client created (or any, with the `moderate` grant); resolves with the final counts. */
  close(pollId: string): Promise<Poll>;
}

/** Creates the polls client half. */
export function pollsClient(): ClientPlugin<PollsApi> {
  return {
    name: 'polls',
    attach(ctx) {
      const events = new Emitter<PollsEvents>();
      const polls = new Map<string, Poll>();
      const channel = ctx.channel(POLLS);

      const update = (poll: Poll) => {
        polls.set(poll.id, poll);
        events.emit('poll', poll);
        return poll;
      };
      channel.onMessage((message) => {
        if (message.op === 'poll') return void update(message.poll);
        polls.clear();
        for (const poll of message.polls) polls.set(poll.id, poll);
        events.emit('polls', message.polls);
      });
      /** Sends a request; its answer is the poll as it is now, for this client as for everyone. */
      const ask = async (request: PollsRequest) => update(replyOf(await channel.request(request), 'poll').poll);

      return {
        on: events.on.bind(events),
        off: events.off.bind(events),
        once: events.once.bind(events),
        polls,
        create: (question, options) => ask({ op: 'create', question, options }),
        vote: (pollId, choice) => ask({ op: 'vote', poll: pollId, choice }),
        close: (pollId) => ask({ op: 'close', poll: pollId }),
      };
    },
  };
}
