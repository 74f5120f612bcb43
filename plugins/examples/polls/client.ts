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
import { ConfabError } from '../../../core/errors.js';
import type { ClientPlugin } from '../../../core/client/types.js';
import { Emitter } from '../../../core/client/emitter.js';
import { POLLS_CHANNEL, type Poll, type PollsServerMessage } from './protocol.js';

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
      const pending = new Map<string, { resolve(poll: Poll): void; reject(error: ConfabError): void }>();
      let counter = 0;

      ctx.onMessage(POLLS_CHANNEL, (raw) => {
        const message = raw as unknown as PollsServerMessage;
        if (message.op === 'polls') {
          polls.clear();
          for (const poll of message.polls) polls.set(poll.id, poll);
          events.emit('polls', message.polls);
        } else if (message.op === 'poll') {
          polls.set(message.poll.id, message.poll);
          events.emit('poll', message.poll);
          const request = message.ref === undefined ? undefined : pending.get(message.ref);
          pending.delete(message.ref ?? '');
          request?.resolve(message.poll);
        }
      });
      ctx.onError((error) => {
        const request = error.ref === undefined ? undefined : pending.get(error.ref);
        pending.delete(error.ref ?? '');
        request?.reject(error);
      });
      ctx.on('close', ({ reason, error }) => {
        for (const request of pending.values()) request.reject(error ?? new ConfabError('CONNECTION_CLOSED', `the client closed (${reason}) before the server answered`));
        pending.clear();
      });

      const request = (message: Record<string, unknown>) =>
        new Promise<Poll>((resolve, reject) => {
          const ref = `r${++counter}`;
          pending.set(ref, { resolve, reject });
          try {
            ctx.send(POLLS_CHANNEL, { ...message, ref });
          } catch (error) {
            pending.delete(ref);
            reject(error);
          }
        });

      return {
        on: events.on.bind(events),
        off: events.off.bind(events),
        once: events.once.bind(events),
        polls,
        create: (question, options) => request({ op: 'create', question, options }),
        vote: (pollId, choice) => request({ op: 'vote', poll: pollId, choice }),
        close: (pollId) => request({ op: 'close', poll: pollId }),
      };
    },
  };
}
